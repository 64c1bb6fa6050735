"""``day25 gradescope``: an autograder zip that grades with this very code.

Why: the grade a student sees on Gradescope must come from the same pipeline
as ``day25 grade`` (copied modules, sandboxed processes, verdict outside the
submission). ``run_autograder`` runs ``day25 grade --single`` on
``/autograder/submission`` and copies that student's ``results.json`` to
``/autograder/results/results.json``; if the grader itself fails, it still
writes a results file that says so instead of leaving Gradescope empty.

Why ``setup.sh`` does not trust ``python3``: Gradescope's base images come with
older Pythons (Ubuntu 22.04: 3.10), and the course needs 3.11; it picks a new
enough interpreter (installing one if needed) and installs into its own venv.
"""

from __future__ import annotations

import stat
import zipfile
from pathlib import Path

from day25.course.catalogue import load_catalogue

__all__ = ["RUN_AUTOGRADER", "SETUP_SH", "autograder_files", "build_autograder"]

SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once while building the image. The course needs Python >= 3.11,
# whatever the base image's python3 is (Ubuntu 22.04's is 3.10): it takes a python3.X >= 3.11
# already there, else the distribution's python3.11, else a Python fetched by uv, and installs
# the course into its own venv, which run_autograder uses.
set -euo pipefail
AUTOGRADER="${AUTOGRADER:-/autograder}"
VENV="$AUTOGRADER/venv"

new_enough() { "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; }
find_python() {
  local candidate
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && new_enough "$candidate"; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

apt-get update -q
# setpriv and bubblewrap: the allow-list sandbox, when the container lets it make namespaces;
# otherwise `day25 grade` says it grades with rlimits only (one student: allowed)
apt-get install -y -q util-linux bubblewrap ca-certificates curl
PYTHON="$(find_python || true)"
if [ -z "$PYTHON" ]; then
  apt-get install -y -q python3.11 python3.11-venv || true
  PYTHON="$(find_python || true)"
fi
if [ -n "$PYTHON" ]; then
  apt-get install -y -q "$(basename "$PYTHON")-venv" || true  # Debian ships venv apart
  "$PYTHON" -m venv "$VENV"
else
  echo "setup.sh: no Python >= 3.11 on this image; fetching one with uv" >&2
  if ! curl -LsSf https://astral.sh/uv/install.sh \\
      | env UV_INSTALL_DIR="$AUTOGRADER/tools" UV_NO_MODIFY_PATH=1 sh; then
    echo "setup.sh: could not get Python >= 3.11: choose a base image that has it" >&2
    exit 1
  fi
  "$AUTOGRADER/tools/uv" venv --seed --python 3.12 "$VENV"
fi
"$VENV/bin/python" -m pip install --upgrade pip
"$VENV/bin/python" -m pip install -e "$AUTOGRADER/source"
"$VENV/bin/day25" --help >/dev/null  # a broken install fails the build, not a submission
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this per submission; the grade comes from `day25 grade` (setup.sh's venv).
set -u
AUTOGRADER="${AUTOGRADER:-/autograder}"
cd "$AUTOGRADER/source"
mkdir -p "$AUTOGRADER/results"
out=$(mktemp -d)
# One student in a throw-away container: grading goes on there as root even where the
# container cannot make namespaces (the sandbox line in the output says which).
"$AUTOGRADER/venv/bin/day25" grade "$AUTOGRADER/submission" --single --jobs 1 \\
    --course "$AUTOGRADER/source" --out "$out" --unsafe-shared-filesystem
if ! cp "$out/submission/results.json" "$AUTOGRADER/results/results.json"; then
  cat > "$AUTOGRADER/results/results.json" <<'JSON'
{"score": 0, "tests": [],
 "output": "The autograder itself failed (not your code); tell your instructor."}
JSON
fi
"""

SOURCE = ("pyproject.toml", "README.md", "LICENSE", "src/day25",
          "exercises/catalogue.toml", "tests/conftest.py")  # and the graded suites' folders
BUILT = (".so", ".pyd", ".o", ".pyc")  # made by the install on the grading machine, never shipped
#: what a desktop leaves in folders (Finder, Explorer), and other hidden files: never shipped
LEFT_BY_DESKTOPS = ("thumbs.db", "desktop.ini")


def _suite_folders(root: Path) -> list[str]:
    """The folders of the catalogue's hidden suites (each with the conftest it needs)."""
    exercises = load_catalogue(root).exercises
    folders = sorted({Path(ex.tests("hidden")).parent.as_posix() for ex in exercises})
    missing = [ex.tests("hidden") for ex in exercises if not ex.suite_files(root, "hidden")]
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
            if file.suffix in BUILT or file.name.startswith(".") or (
                    file.name.lower() in LEFT_BY_DESKTOPS):
                continue
            files[f"source/{rel.as_posix()}"] = file
    return files


def _write(zf: zipfile.ZipFile, name: str, text: str, *, executable: bool) -> None:
    info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    info.create_system = 3  # Unix, wherever it is built: unzip reads the mode only then
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, text)


def build_autograder(root: Path, out: Path) -> list[str]:
    """Write the autograder zip; returns the archive's names."""
    if out.exists():
        raise FileExistsError(f"{out} already exists; choose a new name")
    texts = {name: _text(file) for name, file in autograder_files(root).items()}
    out.parent.mkdir(parents=True, exist_ok=True)  # read first: no half-written zip is left
    with zipfile.ZipFile(out, "w") as zf:
        _write(zf, "setup.sh", SETUP_SH, executable=True)
        _write(zf, "run_autograder", RUN_AUTOGRADER, executable=True)
        for name, text in texts.items():
            _write(zf, name, text, executable=False)
        return zf.namelist()


def _text(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start}): the "
                         "autograder ships the course's text files only; remove it or save "
                         "it as UTF-8") from None
