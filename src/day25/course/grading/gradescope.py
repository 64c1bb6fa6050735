"""``day25 gradescope``: an autograder zip that grades with this very code.

Why: the grade a student sees on Gradescope must come from the same pipeline
as ``day25 grade`` (copied modules, sandboxed processes, verdict outside the
submission). ``run_autograder`` runs ``day25 grade --single`` on
``/autograder/submission`` and copies that student's ``results.json`` to
``/autograder/results/results.json``; if the grader itself fails, it still
writes a results file that says so instead of leaving Gradescope empty.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from day25.course.catalogue import load_catalogue

__all__ = ["RUN_AUTOGRADER", "SETUP_SH", "autograder_files", "build_autograder"]

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once while building the image (choose a base image with Python >= 3.11).
set -euo pipefail
# bubblewrap gives each submission its allow-list view when the container lets it make
# namespaces; otherwise `day25 grade` says it grades with rlimits only (one student: allowed)
apt-get update -q && apt-get install -y -q python3 python3-pip python3-venv util-linux bubblewrap
python3 -m pip install --upgrade pip
python3 -m pip install -e /autograder/source
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this per submission; the grade comes from `day25 grade`.
set -u
cd /autograder/source
mkdir -p /autograder/results
out=$(mktemp -d)
day25 grade /autograder/submission --single --jobs 1 --course /autograder/source --out "$out"
if ! cp "$out/submission/results.json" /autograder/results/results.json; then
  cat > /autograder/results/results.json <<'JSON'
{"score": 0, "tests": [],
 "output": "The autograder itself failed (not your code); tell your instructor."}
JSON
fi
"""

SOURCE = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "src/day25",
          "exercises/catalogue.toml", "tests/conftest.py")  # and the graded suites' folders
BUILT = (".so", ".pyd", ".o", ".pyc")  # made by the install on the grading machine, never shipped


def _suite_folders(root: Path) -> list[str]:
    """The folders of the catalogue's hidden suites (each with the conftest it needs)."""
    exercises = load_catalogue(root).exercises
    folders = sorted({Path(ex.tests("hidden")).parent.as_posix() for ex in exercises})
    missing = [ex.tests("hidden") for ex in exercises if not (root / ex.tests("hidden")).is_file()]
    if missing:
        raise ValueError(f"{root} lacks the graded suites {', '.join(missing)}: the autograder "
                         "needs them")
    return folders


def autograder_files(root: Path) -> dict[str, Path]:
    """Archive name -> course file, for everything the autograder needs."""
    files: dict[str, Path] = {}
    for entry in (*SOURCE, *_suite_folders(root)):
        path = root / entry
        found = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in found:
            rel = file.relative_to(root)
            if "__pycache__" in rel.parts or any(p.endswith(".egg-info") for p in rel.parts):
                continue
            if file.suffix in BUILT:
                continue
            files[f"source/{rel.as_posix()}"] = file
    return files


def _write(zf: zipfile.ZipFile, name: str, text: str, *, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def build_autograder(root: Path, out: Path) -> list[str]:
    """Write the autograder zip; returns the archive's names."""
    files = autograder_files(root)
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new name")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w") as zf:
        _write(zf, "setup.sh", SETUP_SH, executable=True)
        _write(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        for name, file in files.items():
            _write(zf, name, file.read_text(encoding="utf-8"), executable=False)
        return zf.namelist()
