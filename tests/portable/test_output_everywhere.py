"""What a student's code prints, and what ``day25 check`` prints, on a Windows code page.

On Windows a pipe or a file is written in the ANSI code page (cp1252) unless
UTF-8 mode is on; the simulated Windows (``sim/windows``) does the same. A step
that prints "✓" once failed there only, and a check's message quoting a
student's "🎉" made ``day25 check > out.txt`` (or Git Bash) end in a traceback.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import COURSE, simulated_env

pytestmark = pytest.mark.timeout(300)

PRINTS = 'print("ties loaded \\u2713 \\u2014 Zo\\u00eb \\U0001f389")\n'


def _check(step: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """``day25 check STEP`` into a pipe, read as Windows wrote it (cp1252)."""
    return subprocess.run(
        [sys.executable, "-m", "day25.cli", "check", step, "--path", str(folder),
         "--course", str(COURSE)],
        cwd=folder, env=simulated_env("windows"), capture_output=True, encoding="cp1252",
        errors="replace", timeout=240, stdin=subprocess.DEVNULL)


@pytest.fixture
def steps(tmp_path: Path) -> Path:
    folder = tmp_path / "exercises"
    shutil.copytree(COURSE / "solutions" / "steps", folder / "steps")
    return folder


def test_a_step_that_prints_any_character_passes(steps: Path) -> None:
    ties = steps / "steps" / "01_ties.py"
    ties.write_text(ties.read_text(encoding="utf-8") + PRINTS, encoding="utf-8")
    proc = _check("ties", steps)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "UnicodeEncodeError" not in proc.stdout + proc.stderr


def test_a_message_quoting_any_character_is_printed_not_a_traceback(steps: Path) -> None:
    ties = steps / "steps" / "01_ties.py"
    ties.write_text('raise ValueError("done \\u2713 \\U0001f389 Zo\\u00eb")\n', encoding="utf-8")
    proc = _check("ties", steps)
    said = proc.stdout + proc.stderr
    assert proc.returncode == 1, said
    assert "Traceback" not in proc.stderr and "UnicodeEncodeError" not in said, said
    # what cp1252 has is kept, what it has not becomes "?"
    assert "ValueError: done ? ? Zoë" in " ".join(said.split()), said
