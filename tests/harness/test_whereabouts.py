"""Where a hung submission was: the watcher's frames (inside), and what the harness makes
of an ``"at"`` reply, which the submission's own process sent and may have forged."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from types import FrameType

import pytest

from day25.course.harness import ScenarioClient, SubmissionTimeout
from day25.course.harness.errors import blocked_loop, decode_places, last_seen, reply_error
from day25.course.inside.whereabouts import places
from day25.course.protocol import CODE_PLACES, CodePlace

HELPER = """\
import sys

def deeper(n, grab):
    if n:
        return deeper(n - 1, grab)
    return grab()
"""
MAIN = """\
from pkg.helper import deeper

def run(n, grab):
    return deeper(n, grab)  # the student's line
"""


def _student_stack(tmp_path: Path, depth: int) -> list[CodePlace]:
    """Run the student's ``run`` from this (the grader's) file and take ``places`` there."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "helper.py").write_text(HELPER)
    (tmp_path / "mine.py").write_text(MAIN)
    sys.path.insert(0, str(tmp_path))
    try:
        import mine  # type: ignore[import-not-found]

        def grab() -> list[CodePlace]:
            frame: FrameType | None = sys._getframe()
            return places(frame, str(tmp_path))

        found: list[CodePlace] = mine.run(depth, grab)
        return found
    finally:
        sys.path.remove(str(tmp_path))
        for name in ("mine", "pkg", "pkg.helper"):
            sys.modules.pop(name, None)


def test_only_the_students_frames_outermost_first_named_as_they_name_them(
    tmp_path: Path,
) -> None:
    found = _student_stack(tmp_path, 1)
    assert found == [
        {"file": "mine.py", "line": 4, "function": "run",
         "code": "return deeper(n, grab)  # the student's line"},
        {"file": str(Path("pkg", "helper.py")), "line": 5, "function": "deeper",
         "code": "return deeper(n - 1, grab)"},
        {"file": str(Path("pkg", "helper.py")), "line": 6, "function": "deeper",
         "code": "return grab()"},
    ]  # not this test's frames (grab, the test), which ran the student's code


def test_a_deep_recursion_keeps_its_innermost_frames(tmp_path: Path) -> None:
    found = _student_stack(tmp_path, 50)
    assert len(found) == CODE_PLACES
    assert found[-1]["line"] == 6 and all(p["function"] == "deeper" for p in found)


def test_the_harness_reads_a_place_as_text_it_can_show() -> None:
    place = {"file": "x.py", "line": 3, "function": "f", "code": "while True:"}
    assert decode_places([place]) == [place]
    assert last_seen(decode_places([place])) == (
        "Your code was last seen here (most recent call last):\n"
        '  File "x.py", line 3, in f\n'
        "    while True:\n")
    assert last_seen([]) == ""


def test_a_forged_or_broken_at_reads_as_no_place_and_never_as_more_text() -> None:
    """The submission runs in the process that sends ``"at"``: whatever it sends, the
    student's own message gets at most a few short lines, and nothing else changes."""
    good = {"file": "x.py", "line": 3, "function": "f", "code": "pass"}
    for junk in (None, "x.py", {"file": "x.py"}, [good, "x"], [{**good, "line": "3"}],
                 [{**good, "line": True}], [{**good, "code": None}], [{"file": "x.py"}]):
        assert decode_places(junk) == [], junk
    shown = decode_places([{**good, "code": "a\nb\r\x1b[2Jc" + "d" * 5000,
                            "file": "x.py\n  File \"grader.py\", line 1"}])
    assert shown[0]["code"].startswith("a b  [2Jc") and len(shown[0]["code"]) == 200
    assert "\n" not in shown[0]["file"]
    assert len(decode_places([good] * 100)) == CODE_PLACES
    # day25 check stops at a hung check: "the next check starts it afresh" read as a
    # contradiction beside "12 more checks not run" (a student's test)
    assert blocked_loop("not a list").endswith(
        "it was stopped (at grading, each later check starts it afresh).")


HANGS = """\
class PriorityEmitter:
    def __init__(self):
        self.handlers = []

    def on(self, event, handler, priority=2):
        self.handlers.append(handler)
        return handler

    async def emit(self, event, *args, **kwargs):
        i = 0
        while i < len(self.handlers):
            handler = self.handlers[i]
            if handler is None:
                i += 1
"""


def test_a_hang_says_where_the_students_code_was(tmp_path: Path) -> None:
    """Before, a hang said "did not finish running a scenario within 2 s", and the student
    had to guess where: now their own frames follow, as a traceback shows them (only
    their file's: the grader's frames mean nothing to them)."""
    (tmp_path / "priority_ordering.py").write_text(HANGS)
    ops = [{"op": "on", "event": "e", "listener": "a"}, {"op": "emit", "event": "e"}]
    with ScenarioClient(tmp_path, "priority_ordering", timeout=2) as runner, \
            pytest.raises(SubmissionTimeout) as hung:
        runner.run({"ops": ops})
    said = str(hung.value)
    assert re.fullmatch(r"Your code did not finish running a scenario within 2 s: an endless "
                        r"loop, a listener that never returns, or an emit that waits on "
                        r"itself\?\nYour code was last seen here \(most recent call last\):\n"
                        r'  File "priority_ordering.py", line 1[1-4], in emit\n'
                        r"    (while i < len\(self.handlers\):|handler = self.handlers\[i\]|"
                        r"if handler is None:)", said), said


def test_an_app_process_reply_that_is_not_ok_reads_as_one_message_whatever_it_holds() -> None:
    """A probe's reply comes from the submission's process: ``timed_out`` and ``at`` may be
    forged. A blocked loop, a limit run out, or the reply's own error; never a crash."""
    blocked = reply_error({"ok": False, "at": [], "timed_out": 5.0}, "probing", "")
    assert isinstance(blocked, SubmissionTimeout) and "event loop is blocked" in str(blocked)
    waited = reply_error({"ok": False, "timed_out": 5.0}, "probing", "")
    assert isinstance(waited, SubmissionTimeout)
    assert str(waited).startswith("Your code did not finish probing within 5 s: a listener")
    forged = reply_error({"ok": False, "timed_out": "{0.__class__}"}, "probing", "")
    assert "did not finish probing within its time:" in str(forged)
    plain = reply_error({"ok": False, "error": "the probe raised KeyError"}, "probing", "")
    assert type(plain).__name__ == "SubmissionError" and str(plain) == "the probe raised KeyError"
