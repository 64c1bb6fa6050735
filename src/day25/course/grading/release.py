"""``day25 release``: the student bundle, built from an allow-list.

Why an allow-list: a deny-list leaks whatever someone adds next (a new
``solutions_v2/``, a scratch file with answers). Only what a student needs is
copied: lessons, exercise stubs and notebooks, the catalogue, the public tests
and the ``day25`` package. ``solutions/``, ``tests/hidden``, ``tests/mutants``
and every other test folder stay behind; a test proves it file by file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from day25.course.catalogue import CATALOGUE, load_catalogue

__all__ = ["INCLUDED", "build_release", "release_files"]

INCLUDED = ("README.md", "LICENSE", "pyproject.toml", "setup.py", "src/day25", "exercises",
            "notebooks", "docs", "tests/conftest.py", "mkdocs.yml")  # + the public suites' folders
EXCLUDED_PARTS = {"__pycache__", ".ipynb_checkpoints", ".pytest_cache", ".mypy_cache",
                  ".ruff_cache", "dev", ".day25-hints.json"}
EXCLUDED_NAMES = {"instructor.md"}
BUILT = {".pyc", ".pyo", ".so", ".pyd", ".o"}


def _wanted(rel: Path) -> bool:
    if any(part in EXCLUDED_PARTS or part.endswith(".egg-info") for part in rel.parts):
        return False
    # built files (the C accelerator) are made by the student's install, never shipped
    return rel.name not in EXCLUDED_NAMES and rel.suffix not in BUILT


def release_files(root: Path) -> list[Path]:
    """The course files (relative paths) that go into the bundle."""
    public = {Path(ex.tests("public")).parent.as_posix() for ex in load_catalogue(root).exercises}
    files: list[Path] = []
    for entry in (*INCLUDED, *sorted(public)):
        path = root / entry
        if path.is_file():
            files.append(Path(entry))
        elif path.is_dir():
            files += [p.relative_to(root) for p in sorted(path.rglob("*"))
                      if p.is_file() and not p.is_symlink()]
    return [rel for rel in files if _wanted(rel)]


def build_release(root: Path, out: Path) -> list[Path]:
    """Copy the allow-listed files into ``out`` (which must not exist yet)."""
    if not (root / CATALOGUE).is_file():
        raise ValueError(f"{root} is not a course folder (no {CATALOGUE})")
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new folder")
    files = release_files(root)
    for rel in files:
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target)
    return files
