"""Helpers for the portable-runner tests: run ``day25`` or pytest as on macOS or Windows.

A simulated system is a ``sitecustomize`` (``sim/<system>/``) on PYTHONPATH: every
Python process started from the test (the CLI, its pytest session, each inside
process, a notebook's kernel) starts without the APIs that system lacks. The
path is absolute, since children start in other folders.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[2]
SIM = Path(__file__).resolve().parent / "sim"
SYSTEMS = ("macos", "windows")


def simulated_env(system: str | None, **extra: str) -> dict[str, str]:
    """The environment of a process on ``system`` (None: this Linux), runner chosen by auto."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("DAY25_RUNNER", "PYTHONPATH") and not key.startswith("PYTEST_")}
    if system is not None:
        env["PYTHONPATH"] = str(SIM / system)
    return {**env, "COLUMNS": "200", **extra}


def run(argv: Sequence[str], env: dict[str, str], *, cwd: Path = COURSE,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python ARGV`` in ``cwd``; its exit code and output (stderr folded into stdout)."""
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def day25(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    proc = run(["-m", "day25.cli", *map(str, args)], env)
    proc.stdout += proc.stderr
    return proc


@pytest.fixture(scope="session")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Copies of the solutions and of the stubs, as a student's exercises folder."""
    base = tmp_path_factory.mktemp("work")
    made = {}
    for name in ("solutions", "exercises"):
        made[name] = base / name
        shutil.copytree(COURSE / name, made[name], ignore=shutil.ignore_patterns("*.ipynb"))
    return made
