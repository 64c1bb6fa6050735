"""What one student gets back: Gradescope ``results.json`` and ``feedback.md``/``.html``.

Why: the student must learn per test what was expected and what happened, in
words, and never see the hidden test's source (messages come from the harness,
written for students; lines that look like quoted test code are dropped) nor where
the grader's files are (such a path is replaced inside its line: the line may be
the one that explains, or quote the student's own values). The
results file follows Gradescope's specification exactly (no top-level
``max_score``), so the same file uploads to Gradescope and feeds the resume.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import os
import re
import sys
import sysconfig
from pathlib import Path
from typing import Any

from day25.course.grading.results import ExerciseResult, StudentResult, TestResult

__all__ = ["GRADER_FILE", "HIDDEN_TEST", "SHOWN_CHARS", "SHOWN_LINES", "TEMPORARY_FOLDER",
           "clean_message", "hide_grader_paths", "load_results", "results_json", "shortened",
           "write_student"]

#: lines that quote a suite's source: code, and pytest's ``+  where 4 = len(...)`` (the
#: test's own sub-expressions, spelled out)
_SOURCE_LINE = re.compile(
    r"^\s*(>|E\s|def |async def |assert |@pytest|import |from \S+ import|\+\s+(where|and)\s)")
#: what a student reads in place of a path to the hidden suite's files, and of a grader's
HIDDEN_TEST = "<hidden test>"
GRADER_FILE = "<grader file>"
_SEP = r"[/\\]"


@dataclasses.dataclass(frozen=True)
class _PathPatterns:
    """The paths :func:`hide_grader_paths` looks for, written with the characters a path
    may hold where it stands: without spaces in running text, with them between quotes
    (``File "C:\\Program Files\\...\\x.py"``, ``'/Users/Ann Lee/...'``). An absolute
    path starts with ``/`` on POSIX and ``C:\\`` or ``\\\\server\\`` on Windows, where an
    instructor may grade and a traceback may write either slash."""

    #: a path to the hidden suite's files
    hidden_test: re.Pattern[str]
    #: an absolute path to a Python file (the grader's ones become :data:`GRADER_FILE`)
    python_file: re.Pattern[str]
    #: the grader's private copy of the submission (``.../d25z-x/cy/code/``;
    #: ``.../d25-x/code/`` without the zygote) and an app's folder in it
    #: (``.../apps/3/``): the start of a path the student knows by what follows
    #: (``<module>.py``, ``rooms.json``)
    copy_folder: re.Pattern[str]
    #: any other path through a grading run's private temporary folder (``day25-verdict-x``)
    run_folder: re.Pattern[str]

    @classmethod
    def ending_at(cls, stops: str) -> _PathPatterns:
        """The patterns for paths that hold no character of ``stops`` (a regex class's
        inside)."""
        path = rf"[^{stops}]"
        name = rf"[^{stops}/\\]"  # one folder's name
        root = r"(?<![\w.~-])(?:[A-Za-z]:)?[/\\]"
        return cls(
            hidden_test=re.compile(rf"(?:[A-Za-z]:)?{path}*tests{_SEP}hidden{_SEP}{path}*\.py(?!\w)"),
            python_file=re.compile(rf"{root}{path}*\.py(?!\w)"),
            copy_folder=re.compile(rf"{root}(?:{name}+{_SEP})*?d25z?-\w+{_SEP}(?:c\w+{_SEP})?"
                                   rf"(?:code{_SEP}|apps{_SEP}\d+{_SEP})?"),
            run_folder=re.compile(rf"{root}(?:{name}+{_SEP})*?day25-verdict-\w+"))


_IN_TEXT = _PathPatterns.ending_at(r"\s\"'<>()\[\]{},;:=")
#: (what Windows allows in a file's name, ``C:\\Program Files (x86)``, less any quote)
_IN_QUOTES = _PathPatterns.ending_at(r"\n\"'<>:|?*")
#: a quoted string on one line, where a path may hold spaces
_QUOTED = re.compile(r"\"[^\"\n]*\"|'[^'\n]*'")
TEMPORARY_FOLDER = "<temporary folder>"
#: pytest's advice to whoever runs it ("Use -v to get more diff"): a student cannot
_PYTEST_ADVICE = re.compile(
    r"^\s*(Use -v to get (more|the full) diff|Omitting \d+ identical items?, use -vv to show"
    r"|\.\.\.Full output truncated \(\d+ lines? hidden\), use '-vv' to show)\s*$")
#: pytest's line saying where a traceback entry is, in a file that is not the student's:
#: ``tests/hidden/test_x.py:12: in test_y``, ``src/day25/.../scenarios.py:80: AssertionError``
#: (the student's own file is named alone: ``<module>.py:3: in once`` stays)
_GRADER_LOCATION = re.compile(
    rf"^\s*(\S+[/\\]\S+\.py|{re.escape(HIDDEN_TEST)}|{re.escape(GRADER_FILE)}):\d+: "
    r"(in \S+|[\w.]+)\s*$")


#: how much of one failure message a student is shown (``feedback.md``, ``results.json`` and
#: ``day25 check`` alike); a longer message loses its middle (:func:`shortened`)
SHOWN_LINES = 40
SHOWN_CHARS = 3000


def shortened(text: str, *, lines: int | None = SHOWN_LINES, chars: int = SHOWN_CHARS) -> str:
    """``text``, its middle left out when it is longer than ``lines`` lines (``None``: any
    number) or ``chars`` characters, saying how much ("... 12 lines not shown ...").

    Why the middle: a message starts with what ran (a scenario's first steps, the first
    frame) and ends with what went wrong (the step that differed, the exception line, the
    "Stuck?" line); a long scenario or traceback is long in between.
    """
    rows = text.splitlines()
    if lines is not None and len(rows) > lines:
        head = lines // 4
        tail = lines - head - 1
        rows = [*rows[:head], f"... {len(rows) - head - tail} lines not shown ...",
                *rows[len(rows) - tail:]]
        text = "\n".join(rows)
    if len(text) > chars:
        head = chars // 4
        tail = chars - head
        text = (f"{text[:head]} ... {len(text) - head - tail:,} characters not shown ... "
                f"{text[len(text) - tail:]}")
    return text


def _slashed(path: str) -> str:
    """``path`` with ``/`` between its parts, as a traceback on Windows may write it either
    way: the grader's paths are recognised in both spellings."""
    return path.replace("\\", "/")


@functools.cache
def _roots(*roots: str) -> tuple[str, ...]:
    both = {*roots, *(os.path.realpath(root) for root in roots)}
    return tuple(sorted((_slashed(os.path.join(root, "")) for root in both if root), key=len,
                        reverse=True))


def _grader_roots() -> tuple[str, ...]:
    """Where the grader's own files are: the ``day25`` package's source tree, and Python's
    (whose library files are named as such: :func:`_library_path`)."""
    import day25

    return _roots(os.path.dirname(os.path.dirname(os.path.abspath(day25.__file__))),
                  sys.prefix, sys.base_prefix, sys.exec_prefix)


def _standard_library_roots() -> tuple[str, ...]:
    return _roots(sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["platstdlib"])


def _library_path(path: str) -> str | None:
    """``json/decoder.py`` for a file of Python's library or of an installed package other
    than day25 (``nexios/websockets/base.py``): no secret, and it says where an error
    was raised; None for any other file. ``path`` has ``/`` between its parts."""
    for marker in ("/site-packages/", "/dist-packages/"):
        if marker in path:
            inside = path.rsplit(marker, 1)[1]
            return None if inside.split("/", 1)[0] in ("day25", "tests") else inside
    for root in _standard_library_roots():
        if path.startswith(root):
            return path[len(root):]
    return None


def _graders_path(found: re.Match[str]) -> str:
    path = _slashed(found[0])
    if not path.startswith(_grader_roots()):
        return found[0]
    library = _library_path(path)
    return GRADER_FILE if library is None else f"<library file {library}>"


def hide_grader_paths(text: str) -> str:
    """``text`` with each path as the student knows it: a file of their copy by its name
    (``<module>.py``), not by the grading run's random folders; a path to the hidden
    suite or to a grader's file replaced, in its line, by :data:`HIDDEN_TEST` or
    :data:`GRADER_FILE`. Everything else, the student's own values included (``"probe.py:
    tests/hidden ..."``), stays as it was, and the same code reads the same on every run."""
    text = _QUOTED.sub(lambda quoted: _hidden_in(quoted[0], _IN_QUOTES), text)
    return _hidden_in(text, _IN_TEXT)


def _hidden_in(text: str, paths: _PathPatterns) -> str:
    text = paths.run_folder.sub(TEMPORARY_FOLDER, paths.copy_folder.sub("", text))
    return paths.python_file.sub(_graders_path, paths.hidden_test.sub(HIDDEN_TEST, text))


def clean_message(message: str) -> str:
    """Keep the student-facing sentences, quoting the student's values as they are; drop
    the lines that quote test source and pytest's lines saying where in the grader's files
    a failure went (:func:`hide_grader_paths` hides the other mentions of those files); a
    long message is :func:`shortened` in the middle, never at the end."""
    kept = [line for line in _without_hypothesis(hide_grader_paths(message).splitlines())
            if not _SOURCE_LINE.match(line) and not _GRADER_LOCATION.match(line)
            and not _PYTEST_ADVICE.match(line)]
    return shortened("\n".join(kept).strip())


def _without_hypothesis(lines: list[str]) -> list[str]:
    """``lines`` without Hypothesis' report of a random program: its "Falsifying example:
    test_x(... ops=[...])" repeats the scenario the message already numbered, in the
    suite's terms, and its ``@reproduce_failure`` advice is for the suite's author."""
    kept: list[str] = []
    inside: str | None = None  # the indent of an open "Falsifying example:" block
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if inside is not None:
            if stripped == ")" and indent == inside:
                inside = None
            continue
        if stripped.startswith("Falsifying example:"):
            inside = None if stripped.endswith(")") else indent
            continue
        if "@reproduce_failure(" in stripped:
            continue
        kept.append(line)
    return kept


def _test_entry(number: str, test: TestResult) -> dict[str, Any]:
    return {
        "name": f"{test.exercise}: {test.name}",
        "number": number,
        "score": round(test.score, 2),
        "max_score": round(test.max_score, 2),
        "status": "passed" if test.passed else "failed",
        "output": clean_message(test.message) or ("passed" if test.passed else "failed"),
        "output_format": "text",
        "tags": [test.exercise],
        "visibility": "visible",
    }


def _note_entry(number: str, ex: ExerciseResult) -> dict[str, Any]:
    return {
        "name": f"{ex.exercise}: not graded",
        "number": number,
        "score": 0,
        "max_score": round(ex.max_points, 2),
        "status": "failed",
        "output": hide_grader_paths("\n".join(ex.notes)),
        "output_format": "text",
        "tags": [ex.exercise],
        "visibility": "visible",
    }


def results_json(result: StudentResult, sandbox: str) -> dict[str, Any]:
    """The Gradescope results.json document for one student."""
    tests: list[dict[str, Any]] = []
    for i, ex in enumerate(result.exercises, start=1):
        if ex.tests:
            tests.extend(_test_entry(f"{i}.{j}", t) for j, t in enumerate(ex.tests, start=1))
        else:
            tests.append(_note_entry(f"{i}.0", ex))
    summary = [f"{ex.exercise}: {ex.points:g}/{ex.max_points:g}" for ex in result.exercises]
    notes = [*result.notes, *(n for ex in result.exercises if ex.tests for n in ex.notes)]
    return {
        "score": round(result.total, 2),
        "execution_time": round(result.seconds, 1),
        "output": hide_grader_paths("\n".join([*summary, *notes])),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            "student": result.student,
            "content_hash": result.content_hash,
            "sandbox": sandbox,
            "exercises": {ex.exercise: {"title": ex.title, "points": ex.points,
                                        "max_points": ex.max_points, "notes": ex.notes}
                          for ex in result.exercises},
            "notes": result.notes,
        },
    }


def load_results(path: Path) -> StudentResult | None:
    """A previous run's result, for resuming; ``None`` when absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        extra = data["extra_data"]
        exercises = []
        for ex_id, info in extra["exercises"].items():
            ex = ExerciseResult(ex_id, info["title"], float(info["max_points"]),
                                notes=info["notes"])
            for t in data["tests"]:  # the review's entry has no tags: no exercise's test
                if t.get("tags") == [ex_id] and not t["name"].endswith(": not graded"):
                    ex.tests.append(TestResult(t["name"].split(": ", 1)[1], ex_id, t["score"],
                                               t["max_score"], t["status"] == "passed",
                                               t["output"]))
            exercises.append(ex)
        return StudentResult(extra["student"], extra["content_hash"], exercises,
                             float(data.get("execution_time", 0)), list(extra["notes"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _markdown(result: StudentResult) -> str:
    lines = [f"# Feedback for {result.student}", "",
             f"**Total: {result.total:g} / {sum(e.max_points for e in result.exercises):g}**", ""]
    lines += [f"> {note}" for note in result.notes]
    for ex in result.exercises:
        lines += ["", f"## {ex.title} (`{ex.exercise}`): {ex.points:g} / {ex.max_points:g}", ""]
        for note in ex.notes:  # a note's first line is the sentence, the rest quotes code
            first, *rest = hide_grader_paths(note).splitlines() or [""]
            lines += [f"- **{first}**", *_quoted(rest)]
        for test in ex.tests:
            mark = "PASS" if test.passed else "FAIL"
            lines.append(f"- {mark} {test.name} ({test.score:g}/{test.max_score:g})")
            if not test.passed:
                message = clean_message(test.message) or "failed (no details)"
                lines += _quoted(message.splitlines())
    lines += ["", "These results come from the graded (hidden) tests, which check more than "
                  "`day25 check` does.", ""]
    return "\n".join(lines)


QUOTE = " " * 6  # a code block inside a list item ("- " and four spaces)


def _quoted(lines: list[str]) -> list[str]:
    """Lines of a message or of code, as a code block under the list item above: what the
    student's code printed or raised is shown, never read as Markdown (a submission's
    exception once made headings of its own, "Total: 100 / 100" among them)."""
    return ["", *(f"{QUOTE}{line}" for line in lines), ""] if lines else []


def _html(markdown: str, title: str) -> str:
    body = []
    for line in markdown.splitlines():
        if line.startswith(QUOTE):  # quoted output or code: keep its indentation (carets)
            body.append(f"<pre>{html.escape(line[len(QUOTE):])}</pre>")
            continue
        text = html.escape(line.strip())
        text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
        text = re.sub(r"`(.+?)`", r"<code>\1</code>", text)
        if line.startswith("# "):
            body.append(f"<h1>{text[2:]}</h1>")
        elif line.startswith("## "):
            body.append(f"<h2>{text[3:]}</h2>")
        elif line.startswith("- "):
            cls = "pass" if "PASS" in line else "fail" if "FAIL" in line else "note"
            body.append(f'<p class="{cls}">{text[2:]}</p>')
        elif text:
            body.append(f"<p>{text.removeprefix('&gt; ')}</p>")
    style = ("body{font-family:sans-serif;max-width:50em;margin:2em auto}.pass{color:#185}"
             ".fail{color:#b22}pre{margin:0 0 0 2em;white-space:pre-wrap}")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
            f"</title><style>{style}</style></head><body>{''.join(body)}</body></html>\n")


def write_student(result: StudentResult, out: Path, sandbox: str) -> Path:
    """Write ``out/<student>/results.json``, ``feedback.md`` and ``feedback.html``."""
    folder = out / result.student
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "results.json").write_text(json.dumps(results_json(result, sandbox), indent=2),
                                         encoding="utf-8")
    markdown = _markdown(result)
    (folder / "feedback.md").write_text(markdown, encoding="utf-8")
    (folder / "feedback.html").write_text(_html(markdown, f"Feedback: {result.student}"),
                                          encoding="utf-8")
    return folder
