"""What ``day25 check`` prints, read in a narrow terminal or a log file.

A student copies a failing scenario's operations into a test of their own, and reads
the sentence after them. Rich wrapped both at the console's width (80 columns when
the output is not a terminal), cutting the JSON mid-key (``"delay\\n":3``) and moving
an operation's number onto a line of its own. The terminal wraps long lines by itself.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_scenario_and_its_sentence_are_printed_whole_in_a_narrow_terminal(
    tmp_path: Path,
) -> None:
    solution = (ROOT / "solutions" / "priority_ordering.py").read_text(encoding="utf-8")
    lowest_first = solution.replace("(-entry[0], entry[1])", "(entry[0], entry[1])")
    assert lowest_first != solution, "the reference changed: break it another way"
    (tmp_path / "priority_ordering.py").write_text(lowest_first, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "day25.cli", "check", "priority_ordering", "--path",
         str(tmp_path)], cwd=tmp_path, text=True, capture_output=True, timeout=300,
        env={**os.environ, "COLUMNS": "60"})
    assert done.returncode == 1, done.stdout[-3000:]
    lines = done.stdout.splitlines()
    first = '1. {"op":"on","event":"e","listener":"low","priority":"LOW","kind":"sync"}'
    assert any(line.strip() == first for line in lines), done.stdout[:3000]
    said = [line for line in lines if "At step 4 the listeners should have been called" in line]
    assert said and all("but were called as" in line for line in said), done.stdout[:3000]
