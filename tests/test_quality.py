"""The package's own code stays lint-clean and type-checks under mypy --strict."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_is_clean_on_src() -> None:
    result = run("ruff", "check", "src")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean_on_src() -> None:
    # strict = true and files = ["src/day25"] live in pyproject.toml; say --strict anyway
    result = run("mypy", "--strict", "src/day25")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success" in result.stdout
