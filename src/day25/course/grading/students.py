"""Which path is which student: a class folder, a student's folder or zip, an LMS export.

Why a module of its own: the grade of a class depends on it before any code runs. A
class folder holds one folder or ``.zip`` per student, and each becomes a row; a folder
with the exercise modules at its top (or down its chain of only folders, as a zip unpacked
into a folder of its own, or ``Downloads/day25/``, leaves them) is one student. What is
ambiguous is said, not guessed:
a module file left loose among the students' folders is nobody's (it must not turn the
class into one student made of the first folder's files), and a folder graded as one
student because its modules sit down its chain of only folders is named, with how to grade it as
a class of one instead. Canvas's and Moodle's exports are split by :mod:`.exports`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

from .exports import exported
from .intake import JUNK_FOLDERS, RESERVED_IDS, Submission, chain_down

__all__ = ["discover"]

_SAFE_ID = re.compile(r"[^A-Za-z0-9_.@-]+")


def _name(path: Path) -> str:
    return path.name[:-4] if path.name.lower().endswith(".zip") else path.name


#: names Windows keeps for devices, whatever follows a dot: no file or folder may have one
WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)),
                             *(f"LPT{i}" for i in range(1, 10))})


def _student_id(path: Path) -> str:
    """A safe id; accents fold (``José`` is ``Jose`` in NFC as in macOS' NFD), and a name
    Windows keeps for a device (``aux``, ``CON.backup``) gets a ``_`` after its stem, or
    its output folder could not be made there."""
    name = unicodedata.normalize("NFKD", _name(path))
    name = "".join(c for c in name if not unicodedata.combining(c))
    safe = _SAFE_ID.sub("_", name).strip("._") or "student"
    stem = safe.split(".", 1)[0]
    return f"{stem}_{safe[len(stem):]}" if stem.upper() in WINDOWS_DEVICES else safe


def _unique(found: list[Submission]) -> list[Submission]:
    """Give every submission an id of its own, never another's.

    A submission whose name is already a safe id keeps it, before any other gets
    a turn: a folder ``_alice`` (id ``alice`` once made safe) cannot take the row of
    the folder ``alice``, whatever the order. The rest, and duplicates, get ``-2``,
    ``-3``..., and ``renamed`` says why. Ids compare without case (``Alice`` and
    ``alice`` are one folder on macOS and Windows), and none is an output file's name.
    """
    taken = {name.casefold() for name in RESERVED_IDS}
    ids: dict[int, str] = {}
    for i, sub in enumerate(found):  # exact names first
        if sub.student == _name(sub.source) and sub.student.casefold() not in taken:
            ids[i] = sub.student
            taken.add(sub.student.casefold())
    unique = []
    for i, sub in enumerate(found):
        student, renamed = ids.get(i), ""
        if student is None:
            count = 1
            student = sub.student
            while student.casefold() in taken:
                count += 1
                student = f"{sub.student}-{count}"
            taken.add(student.casefold())
            if student != sub.student:
                renamed = (f"{sub.source.name} is graded as {student}: its name makes the id "
                           f"{sub.student}, which another submission (or an output file) has")
        unique.append(Submission(student, sub.source, renamed, sub.files))
    return unique


def _modules_folder(folder: Path, modules: Sequence[str]) -> Path | None:
    """Where a student's folder holds its modules: at its top (``folder``), or down its
    chain of only folders (a zip unpacked into a folder of its own, ``Downloads/day25/``);
    None when it is no student's folder."""
    if any((folder / name).exists() or (folder / name).is_symlink() for name in modules):
        return folder
    return next((d for d in chain_down(folder) if any((d / n).is_file() for n in modules)),
                None)


def discover(
    paths: Iterable[Path], modules: Sequence[str], *, single: bool = False,
    told: list[str] | None = None,
) -> list[Submission]:
    """Each path is one student (a zip, or a folder holding modules) or a folder of them.

    With ``single`` every path is one student, whatever it holds (Gradescope).
    Students whose ids clash get ``-2``, ``-3``... so nobody overwrites anybody
    (:func:`_unique`). ``told`` receives what the instructor must know of how a path
    was read: a module file loose in a class folder (nobody's, not graded), or a folder
    graded as one student because its modules are in its only subfolder.
    """
    found: list[Submission] = []
    told = told if told is not None else []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such submission: {path}")
        students = [] if single or path.is_file() else _students_in(path, modules)
        loose = [n for n in modules if (path / n).is_file()] if students else []
        where = None if single or path.is_file() else _modules_folder(path, modules)
        if single or path.is_file() or (where is not None and not loose):
            if where is not None and where != path:
                told.append(f"{path} is graded as ONE student, {_student_id(path)}, whose "
                            f"files are in {where.relative_to(path).as_posix()}, the only "
                            f"folder down from it. If {path} is a class of one student, "
                            f"grade {where} instead.")
            found.append(Submission(_student_id(path), path))
            continue
        some = ", ".join(c.name for c in students[:3]) + (", ..." if len(students) > 3 else "")
        told += [f"{path / n} is loose in the class folder, beside the students' folders "
                 f"({some}): it is nobody's, and was not graded. Move it into its student's "
                 "folder." for n in loose]
        from_lms, taken = exported(path)
        for child in sorted(path.iterdir()):
            if child.name.startswith(".") or child.name in JUNK_FOLDERS or child in taken:
                continue
            # a symlinked student is listed, so their feedback says why it scores 0
            if child.is_symlink() or child.is_dir() or child.suffix.lower() == ".zip":
                found.append(Submission(_student_id(child), child))
        found += [Submission(_student_id(Path(student)), path, files=tuple(files))
                  for student, files in from_lms.items()]
    return _unique(found)


def _students_in(folder: Path, modules: Sequence[str]) -> list[Path]:
    """The children of ``folder`` that are students' work (a ``.zip``, or a folder with
    modules), when there are two or more: then ``folder`` is a class, even with a module
    file at its top (a stray file is not a student, and the class not one student)."""
    children = sorted(c for c in folder.iterdir() if not c.name.startswith(".")
                      and c.name not in JUNK_FOLDERS and not c.is_symlink())
    students = [c for c in children if (c.suffix.lower() == ".zip" and c.is_file())
                or (c.is_dir() and _modules_folder(c, modules) is not None)]
    return students if len(students) >= 2 else []
