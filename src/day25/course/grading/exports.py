"""A class as an LMS exports it: which files of one flat folder are whose.

Why: Canvas's "Download Submissions" does not give a folder per student. It puts every
uploaded file side by side, named ``<name>_<user id>_<attachment id>_<file>``, with
``late`` after the name when the upload came after the deadline (``smithbob_late_340934_
208490284_hw.py``); a file uploaded again under the same name arrives as ``hw-1.py``.
Graded as it is, such a folder holds no student at all. Here the files are grouped by
``<name>_<user id>`` (two students with one name have two user ids), and each file keeps
the name the student gave it. Moodle and Gradescope export a folder per student, which
needs nothing from this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExportedFile", "canvas_files"]

#: ``<name>[_late]_<user id>_<attachment id>_<file>``; Canvas drops all but letters and
#: digits from the name, so the first underscore ends it
_CANVAS = re.compile(r"(?P<name>[^_]*)_(?:late_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)",
                     re.IGNORECASE)


@dataclass(frozen=True)
class ExportedFile:
    """One file of an export: whose it is, and the name its student gave it."""

    student: str
    own_name: str
    path: Path


def canvas_files(folder: Path) -> dict[str, list[ExportedFile]]:
    """``{student: files}`` for the files of ``folder`` that Canvas named, by file name;
    the student is ``<name>_<user id>``. Folders and other files are not listed."""
    found: dict[str, list[ExportedFile]] = {}
    for child in sorted(folder.iterdir()):
        match = _CANVAS.fullmatch(child.name)
        if match is None or child.is_dir():
            continue
        student = f"{match['name']}_{match['user']}".strip("_")
        found.setdefault(student, []).append(ExportedFile(student, match["file"], child))
    return found
