"""A class as an LMS exports it: which files of one flat folder are whose.

Why: Canvas's "Download Submissions" does not give a folder per student. It puts every
uploaded file side by side, named ``<name>_<user id>_<attachment id>_<file>``, with
``late`` after the name when the upload came after the deadline (``smithbob_late_340934_
208490284_hw.py``); a file uploaded again under the same name arrives as ``hw-1.py``.
Graded as it is, such a folder holds no student at all. Here the files are grouped by
``<name>_<user id>`` (two students with one name have two user ids), and each file keeps
the name the student gave it. Moodle's "Download all submissions" gives a folder per
participant *and* submission plugin (``Ann Lee_1201_assignsubmission_file_``, and
``..._onlinetext_`` beside it for the text box): the folders of one participant are one
student, ``<full name>_<participant id>``, so the online text is no second row scoring 0.
Gradescope exports a folder per submission, which needs nothing from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ExportedFile", "exported"]

#: ``<full name>_<participant id>_assignsubmission_<plugin>_``
_MOODLE = re.compile(r"(?P<name>.+)_(?P<user>\d+)_assignsubmission_(?P<plugin>[a-z]+)_?")
#: ``<name>[_late]_<user id>_<attachment id>_<file>``; Canvas drops all but letters and
#: digits from the name, so the first underscore ends it
_CANVAS = re.compile(
    r"(?P<name>[^_]*)_(?P<late>late_)?(?P<user>\d+)_(?P<attachment>\d+)_(?P<file>.+)",
    re.IGNORECASE)


@dataclass(frozen=True)
class ExportedFile:
    """One file of an export, the name its student gave it, and whether the LMS marks it
    as handed in after the deadline (Canvas's ``_late_``: kept, so a late penalty can be
    applied; grading itself ignores it)."""

    own_name: str
    path: Path
    late: bool = False


def exported(folder: Path) -> tuple[dict[str, list[ExportedFile]], set[Path]]:
    """``{student: files}`` for what Canvas (files) and Moodle (folders) named after their
    student in ``folder``, and those files and folders: everything else is left alone."""
    found: dict[str, list[ExportedFile]] = {}
    taken: set[Path] = set()
    for child in sorted(folder.iterdir()):
        canvas = _CANVAS.fullmatch(child.name)
        moodle = _MOODLE.fullmatch(child.name)
        if moodle is not None and child.is_dir() and not child.is_symlink():
            student = f"{moodle['name']}_{moodle['user']}"
            found.setdefault(student, []).extend(_moodle_files(child))
        elif canvas is not None and not child.is_dir():
            student = f"{canvas['name']}_{canvas['user']}".strip("_")
            found.setdefault(student, []).append(
                ExportedFile(canvas["file"], child, late=canvas["late"] is not None))
        else:
            continue
        taken.add(child)
    return found, taken


def _moodle_files(folder: Path) -> list[ExportedFile]:
    """The files of one Moodle folder and of its subfolders, one level down (as a student's
    own folder is read)."""
    files = []
    for child in sorted(folder.iterdir()):
        inner = sorted(child.iterdir()) if child.is_dir() and not child.is_symlink() else [child]
        files += [ExportedFile(f.name, f) for f in inner if not f.is_dir()]
    return files
