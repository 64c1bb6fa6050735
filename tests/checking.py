"""``day25 check`` run as a student runs it, for the tests of what it prints."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

COURSE = Path(__file__).resolve().parents[1]
ENV = {"COLUMNS": "200", "PATH": "/usr/bin:/bin", "HOME": "/tmp"}


def run_day25(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "day25.cli", *map(str, args),
                           "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=300, cwd=COURSE, env=ENV)


def check(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return run_day25("check", *args)


def workspace(tmp_path: Path, source: str = "exercises") -> Path:
    """A student's exercises folder: every module and step from ``source``."""
    mine = tmp_path / "exercises"
    shutil.copytree(COURSE / source, mine, ignore=shutil.ignore_patterns("*.ipynb", "*.toml"))
    return mine


def block(out: str, test: str) -> list[str]:
    """The lines ``day25 check`` printed under ``FAIL <test>``, up to the next test."""
    lines = out.splitlines()
    start = lines.index(f"  FAIL {test}") + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("     ")),
               len(lines))
    return [line.strip() for line in lines[start:end]]
