"""``day25 check``: per test pass/fail, the next hint, progress, and the hidden-tests warning."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parents[2]


def _check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", "check", *map(str, args),
                           "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=300, cwd=COURSE,
                          env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp"})


def test_stub_fails_with_a_hint_and_the_warning(tmp_path: Path) -> None:
    mine = tmp_path / "exercises"
    mine.mkdir()
    shutil.copy(COURSE / "exercises" / "priority_ordering.py", mine)
    first = _check("priority_ordering", "--path", mine)
    assert first.returncode == 1, first.stdout
    assert "FAIL" in first.stdout and "hint 1/" in first.stdout
    assert "hidden tests also run" in first.stdout
    assert "0/1 exercises pass" in first.stdout
    second = _check("priority_ordering", "--path", mine)
    assert "hint 2/" in second.stdout  # one more hint per failing run


def test_solution_passes_but_is_not_called_full_marks(tmp_path: Path) -> None:
    mine = tmp_path / "exercises"
    mine.mkdir()
    shutil.copy(COURSE / "solutions" / "priority_ordering.py", mine)
    proc = _check("priority_ordering", "--path", mine)
    assert proc.returncode == 0, proc.stdout
    assert "PASS" in proc.stdout and "FAIL" not in proc.stdout
    assert "1/1 exercises pass their public checks" in proc.stdout
    assert "does not guarantee full points" in proc.stdout


def test_unknown_exercise_is_a_clear_error(tmp_path: Path) -> None:
    proc = _check("no_such_exercise", "--path", COURSE / "exercises")
    assert proc.returncode == 2 and "unknown exercise" in proc.stdout


def test_watch_reruns_on_save(tmp_path: Path) -> None:
    import time

    mine = tmp_path / "exercises"
    mine.mkdir()
    shutil.copy(COURSE / "exercises" / "priority_ordering.py", mine)
    log = tmp_path / "watch.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "day25.cli", "check", "priority_ordering", "--path", str(mine),
             "--watch", "--course", str(COURSE)], stdout=out, stderr=subprocess.STDOUT, cwd=COURSE,
            env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp"})
    try:
        def wait_for(count: int) -> None:
            deadline = time.monotonic() + 120
            while log.read_text().count("watching for changes") < count:
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)

        wait_for(1)
        assert "FAIL" in log.read_text()
        shutil.copy(COURSE / "solutions" / "priority_ordering.py", mine)  # the student saves
        wait_for(2)
        assert "1/1 exercises pass their public checks" in log.read_text()
    finally:
        proc.kill()
        proc.wait(timeout=10)
