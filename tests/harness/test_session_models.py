"""The random-session tests of the chat and notification suites can fail, and say why.

``tests/hidden/chat_broadcasting/chat_model.py`` and
``tests/hidden/notification_queueing/notification_model.py`` compare a submission
with a model of the exercise text. A model that agreed with everything would pass
every submission silently, so each is run here on the reference solution (it
passes) and on one kept bug that no rule of the model was written for (it fails,
with the session that showed it).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CASES = [
    ("chat_broadcasting", "solutions/chat_broadcasting.py", None),
    ("chat_broadcasting", "tests/mutants/chat_broadcasting/bug_98_roster_sorted_ignoring_case.py",
     "should get {'type': 'roster'"),
    ("notification_queueing", "solutions/notification_queueing.py", None),
    ("notification_queueing",
     "tests/mutants/notification_queueing/bug_111_cap_only_when_offline.py",
     "should get the notification seq"),
]


@pytest.mark.parametrize(("exercise", "source", "wanted"), CASES,
                         ids=[f"{e}-{Path(s).stem}" for e, s, _ in CASES])
def test_the_session_model_passes_the_reference_and_fails_a_bug(
    tmp_path: Path, exercise: str, source: str, wanted: str | None
) -> None:
    shutil.copy(ROOT / source, tmp_path / f"{exercise}.py")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", f"tests/hidden/{exercise}", "-k",
         "random_sessions", "--submission", str(tmp_path), "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    if wanted is None:
        assert proc.returncode == 0 and "1 passed" in out, out[-3000:]
    else:
        assert proc.returncode == 1 and "1 failed" in out, out[-3000:]
        assert "The session so far" in out and wanted in out, out[-3000:]


def test_brief_shows_long_texts_by_their_start_and_length() -> None:
    """What a failing session prints: the field that differs stays visible."""
    from day25.course.harness import brief

    frame = {"type": "message", "text": "x" * 2000, "seq": 3, "users": ["ann", "b" * 30]}
    assert brief(frame) == ("{'type': 'message', 'text': 'xxxxxx... (2000 characters)', "
                            "'seq': 3, 'users': ['ann', 'bbbbbb... (30 characters)']}")
    assert brief("y" * 24) == repr("y" * 24)  # short strings stay whole
    assert brief(list(range(1000)), limit=20) == repr(list(range(1000)))[:20] + "..."
    deep: list[object] = []
    for _ in range(5000):  # what a hostile server could send, nested past any stack
        deep = [deep]
    assert brief(deep) == "<a value nested too deeply to show>"
