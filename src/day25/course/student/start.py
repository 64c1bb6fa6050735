"""``day25 start``: open the lessons in JupyterLab, from the course folder.

Why a command: students should not have to know where the notebooks live or how
to point Jupyter at them; one line installs the course and this opens it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from day25.course.catalogue import CatalogueError, find_course_root

__all__ = ["find_lessons", "jupyter_command", "start"]


def find_lessons(start: Path | None = None) -> Path:
    """The course folder (see :func:`~day25.course.catalogue.find_course_root`), which
    must hold lessons: ``notebooks/*.ipynb``.

    Without ``start``, an editable install's own checkout is the last resort, so
    ``day25 start`` works from any folder right after the quick start.
    """
    here = (start or Path.cwd()).resolve()
    try:
        course = find_course_root(start)
    except CatalogueError:
        course = None
    if course is None or not any((course / "notebooks").glob("*.ipynb")):
        raise FileNotFoundError(
            f"no notebooks/ folder in {here} or above it: run 'day25 start' inside the course "
            "folder (the one with notebooks/, exercises/ and README.md)"
        )
    return course


def jupyter_command(course: Path, *, port: int | None, open_browser: bool) -> list[str]:
    notebooks = sorted((course / "notebooks").glob("*.ipynb"))
    first = notebooks[0].relative_to(course).as_posix() if notebooks else ""
    command = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={course}"]
    if port is not None:
        command.append(f"--port={port}")
    if not open_browser:
        command.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI run as root; Jupyter refuses otherwise
    if first:
        command.append(f"--LabApp.default_url=/lab/tree/{first}")
    return command


def start(course: Path | None = None, *, port: int | None = None, open_browser: bool = True) -> int:
    """Run JupyterLab on the course until it is stopped; return its exit code."""
    folder = find_lessons(course)
    command = jupyter_command(folder, port=port, open_browser=open_browser)
    print(f"Day 25 lessons: {folder / 'notebooks'}  (exercises: {folder / 'exercises'})")
    print("Check your exercises any time with: day25 check   (Ctrl+C stops JupyterLab)")
    try:
        return subprocess.call(command, cwd=folder, env=os.environ.copy())
    except KeyboardInterrupt:
        return 0
