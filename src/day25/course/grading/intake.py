"""Find students' submissions and take ONLY their exercise modules, safely.

Why: a submission is untrusted input. It is never executed in place: the
catalogue's module files (and nothing else: no ``conftest.py``, no planted
results file) are read out of a folder or a zip, checked, and written into a
fresh directory the grader owns. A zip whose paths escape, a zip bomb, a
symlink or a file that is not UTF-8 text gets a sentence the student can act
on instead of a crash, and never costs another student anything.

Students hand in from laptops: what Windows and macOS add is not the student's
work. CRLF line endings and a UTF-8 BOM are kept (Python runs them); a zip's
backslash separators (PowerShell's Compress-Archive) are separators; Finder's
``__MACOSX`` folder is skipped; a module named with other case
(``Chat_Broadcasting.py``, which ``day25 check`` found on the student's Windows or
macOS) or the only copy of one (``module (1).py`` from a browser's second
download, ``... - Copy.py``) is taken with a note asking for the exact name; a student id folds
accents, so ``José`` is ``Jose`` whether macOS wrote it decomposed (NFD) or not. A folder
as Canvas exports a class (every file side by side, named after its student) is split
into students by :mod:`.exports`, and so are Moodle's folders per participant.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import tokenize
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .exports import ExportedFile
from .file_names import is_copy, likeness, module_of, not_found, pick

__all__ = [
    "LATE_NOTE",
    "MAX_MODULE_BYTES",
    "MAX_RATIO",
    "MAX_TOTAL_BYTES",
    "RESERVED_IDS",
    "Intake",
    "Submission",
    "content_hash",
    "not_utf8",
    "take_modules",
    "write_copy",
]

#: how a module's note says the LMS marked its file late (the grade is not changed)
LATE_NOTE = "Handed in late"

MAX_MODULE_BYTES = 512 * 1024  # one exercise module; real ones are a few KB
MAX_TOTAL_BYTES = 8 * 1024 * 1024  # all entries of a zip, uncompressed
MAX_RATIO = 100  # uncompressed / compressed, for entries over 64 KB


#: what the output folder holds beside the students' folders: no student may be called so
RESERVED_IDS = frozenset({"gradebook.csv", "grades.png"})
#: folders a laptop adds that are nobody's work: macOS Finder's zip resource forks
JUNK_FOLDERS = frozenset({"__MACOSX"})


@dataclass(frozen=True)
class Submission:
    """One student's work: a folder or a ``.zip``; the student id is its name.

    ``renamed``: why the id is not the name (it clashed): the instructor is told.
    ``files``: the student's files of an LMS export (``source`` is the export's folder)."""

    student: str
    source: Path
    renamed: str = ""
    files: tuple[ExportedFile, ...] | None = None


@dataclass
class Intake:
    """What was taken from a submission: module name -> UTF-8 text, plus problems.

    ``problems`` maps a module file name (or ``""`` for the whole submission)
    to the sentences the student sees in their feedback. ``notes`` maps a module
    that WAS taken to sentences shown beside its grade (a file name in other case).
    """

    modules: dict[str, str] = field(default_factory=dict)
    problems: dict[str, list[str]] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)
    taken_from: dict[str, str] = field(default_factory=dict)  # module -> the file's own name

    def problem(self, module: str, text: str) -> None:
        self.problems.setdefault(module, []).append(text)


def not_utf8(name: str, data: bytes) -> str | None:
    """Why Python cannot run ``data`` as source (UTF-16, bytes that are not UTF-8, a NUL
    byte), or None."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(data):
        # PowerShell 5's > and Out-File write a BOM; `-Encoding unicode` in 7 does not
        return (f"{name} is saved as UTF-16, which Python cannot run; save it as UTF-8 in your "
                "editor.")
    encoding = source_encoding(data)
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        byte = f"line {line} holds the byte 0x{data[exc.start]:02x}"
        if encoding != "utf-8":
            return (f"{name} is not {encoding} text, as its first lines declare: {byte}; save "
                    "it as UTF-8 in your editor (and drop the coding line).")
        return (f"{name} is not UTF-8 text: {byte}, which UTF-8 cannot decode (saved as "
                "Windows-1252 or Latin-1?); save it as UTF-8 in your editor.")
    if (at := data.find(b"\0")) >= 0:  # valid UTF-8, but "source code cannot contain null bytes"
        line = data.count(b"\n", 0, at) + 1
        return (f"{name} holds a NUL byte (line {line}), which Python cannot run; save it "
                "again as UTF-8 text in your editor.")
    return None


def source_encoding(data: bytes) -> str:
    """What Python reads ``data`` as: the encoding a comment on its first two lines names
    (PEP 263, ``# -*- coding: cp1252 -*-``), else UTF-8 (a BOM is kept in the text)."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError:  # an unknown encoding: Python refuses it, and so does UTF-8 here
        return "utf-8"
    return "utf-8" if encoding == "utf-8-sig" else encoding


def _utf16_without_bom(data: bytes) -> bool:
    """Text saved as UTF-16 with no byte order mark: its start (code is mostly ASCII) has a
    NUL in nearly every other byte, the high half of each character."""
    head = data[:256]
    return len(head) >= 8 and any(half.count(0) >= 0.9 * len(half)
                                  for half in (head[0::2], head[1::2]))


def _decode(intake: Intake, name: str, data: bytes, found: str = "") -> None:
    """Take ``data`` as module ``name``; ``found``: the file's own name, when it differs."""
    shown = found or name
    if len(data) > MAX_MODULE_BYTES:
        intake.problem(name, f"{shown} is larger than the {MAX_MODULE_BYTES}-byte limit for "
                             "one module; it was not graded.")
        return
    if why := not_utf8(shown, data):
        intake.problem(name, why)
        return
    if not data.strip():  # one sentence, not every test's "has no attribute ..."
        intake.problem(name, f"{shown} is empty (nothing but blank lines): there is nothing "
                             "to grade. Was it saved before it was handed in?")
        return
    intake.modules[name] = data.decode(source_encoding(data))
    intake.taken_from[name] = found or name
    if found and found != name:
        why = ("Windows and macOS ignore the case of a file name, other systems do not."
               if found.casefold() == name.casefold() else
               "a second download or copy of a file gets a new name, and only the exact "
               "name is sure to be graded.")
        intake.notes.setdefault(name, []).append(
            f"Your file is named {found}; it was taken as {name}. Name it {name} exactly: "
            + why)


CHAIN_DEPTH = 4  # how far a chain of only folders is followed (Downloads/day25/...)


def only_folder(folder: Path) -> Path | None:
    """``folder``'s one and only entry, when that is a folder (not a link); dot files and
    ``__MACOSX`` do not count."""
    try:
        children = [c for c in folder.iterdir()
                    if not c.name.startswith((".", "__")) and c.name not in JUNK_FOLDERS]
    except OSError:  # unreadable: no chain to follow, and intake never raises for it
        return None
    only = children[0] if len(children) == 1 else None
    return only if only is not None and only.is_dir() and not only.is_symlink() else None


def chain_down(folder: Path) -> list[Path]:
    """The folders below ``folder`` down a chain of only folders (each the one entry of
    the one before), at most :data:`CHAIN_DEPTH` deep."""
    chain: list[Path] = []
    here: Path | None = folder
    while len(chain) < CHAIN_DEPTH and here is not None:
        here = only_folder(here)
        if here is not None:
            chain.append(here)
    return chain


def _from_folder(folder: Path, modules: Sequence[str], intake: Intake) -> list[str]:
    """Take the modules from ``folder``, its subfolders, or down a chain of only folders
    below one of them (``Downloads/day25/``); returns the names seen."""
    below = [c for c in sorted(folder.iterdir()) if c.is_dir() and not c.is_symlink()
             and c.name not in JUNK_FOLDERS]
    dirs = [folder, *below, *(d for c in below for d in chain_down(c))]
    listing = {d: sorted(os.listdir(d)) for d in dirs}
    for name in modules:
        for folder_ in dirs:
            found = pick(listing[folder_], name)
            if found is None:
                continue
            if _read(intake, name, found, folder_ / found):
                break
    return [n for names in listing.values() for n in names]


def _read(intake: Intake, name: str, found: str, path: Path) -> bool:
    """Take module ``name`` from the file ``path`` (named ``found``) unless it is a link;
    False when there is no file to take."""
    if path.is_symlink():
        intake.problem(name, f"{found} is a symbolic link; links are not followed. "
                             "Submit the file itself.")
        return True
    if not path.is_file():
        return False
    with path.open("rb") as fh:  # a huge file is not read whole
        _decode(intake, name, fh.read(MAX_MODULE_BYTES + 1), found)
    return True


def _from_export(files: Sequence[ExportedFile], modules: Sequence[str], intake: Intake
                 ) -> list[str]:
    """Take the modules from one student's files of an LMS export, by the names the
    student gave them, then from a zip among them; returns the names seen."""
    by_name = {f.own_name: f.path for f in files}
    late = {f.own_name for f in files if f.late}
    for name in modules:
        found = pick(by_name, name)
        if (found is not None and _read(intake, name, found, by_name[found])
                and found in late and name in intake.modules):
            _say_late(intake, [name], by_name[found])
    seen = list(by_name)
    for own_name, path in by_name.items():
        left = [m for m in modules if m not in intake.modules and m not in intake.problems]
        if not (left and own_name.lower().endswith(".zip")) or path.is_symlink():
            continue
        if path.stat().st_size > MAX_TOTAL_BYTES:  # as for a student's own zip
            intake.problem("", f"{own_name} is larger than {MAX_TOTAL_BYTES} bytes; submit "
                               "only your exercise modules.")
        else:
            before = set(intake.modules)
            seen += _from_zip(path, left, intake)
            if own_name in late:
                _say_late(intake, sorted(set(intake.modules) - before), path)
    return seen


def _say_late(intake: Intake, modules: Sequence[str], path: Path) -> None:
    """Beside each of ``modules``' grade: the LMS marks the file it came from late."""
    for name in modules:
        intake.notes.setdefault(name, []).append(
            f"{LATE_NOTE}: the LMS named the file {path.name}.")


def _unsafe_member(info: zipfile.ZipInfo) -> str | None:
    path = PurePosixPath(info.filename.replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts or (path.parts and ":" in path.parts[0]):
        return f"the zip entry {info.filename!r} points outside the submission folder"
    return None


def _from_zip(archive: Path, modules: Sequence[str], intake: Intake) -> list[str]:
    """Take the modules from a zip; returns the names seen (none when it is refused)."""
    seen: list[str] = []
    try:
        with zipfile.ZipFile(archive) as zf:
            infos = zf.infolist()
            for info in infos:
                reason = _unsafe_member(info)
                if reason:
                    intake.problem("", f"The zip was rejected: {reason}. Zip your files again "
                                       "from inside your exercises folder.")
                    return seen
            declared = sum(info.file_size for info in infos)
            if declared > MAX_TOTAL_BYTES:
                intake.problem("", f"The zip was rejected: it unpacks to {declared} bytes, over "
                                   f"the {MAX_TOTAL_BYTES}-byte limit (a zip bomb?).")
                return seen
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > 65536 and ratio > MAX_RATIO:
                    intake.problem("", f"The zip was rejected: {info.filename!r} compresses "
                                       f"more than {MAX_RATIO}:1 (a zip bomb?).")
                    return seen
            by_name: dict[str, tuple[int, str, zipfile.ZipInfo]] = {}
            for info in infos:
                # PowerShell 5 writes folder\file: a separator, as _unsafe_member says
                parts = PurePosixPath(info.filename.replace("\\", "/")).parts
                if (info.is_dir() or not parts or len(parts) > 3
                        or any(p in JUNK_FOLDERS for p in parts)):
                    continue
                seen.append(parts[-1])
                name = module_of(parts[-1], modules)
                if name is None:
                    continue
                rank = (len(parts), likeness(parts[-1], name))  # shallowest, then the closest
                known = by_name.get(name)
                if known is None or rank < (known[0], likeness(known[1], name)):
                    by_name[name] = (len(parts), parts[-1], info)
            for name, (_, found, info) in by_name.items():
                if stat.S_ISLNK(info.external_attr >> 16):
                    intake.problem(name, f"{found} is a symbolic link inside the zip; links "
                                         "are not followed. Submit the file itself.")
                    continue
                with zf.open(info) as member:
                    data = member.read(MAX_MODULE_BYTES + 1)  # never trust the declared size
                _decode(intake, name, data, found)
    except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        intake.problem("", f"The zip could not be read ({exc}); submit a plain .zip of your files.")
    return seen


def take_modules(sub: Submission, modules: Sequence[str]) -> Intake:
    """Read the catalogue's modules out of a submission; never raises for bad input."""
    intake = Intake()
    seen: list[str] = []
    if sub.files is not None:
        seen = _from_export(sub.files, modules, intake)
    elif sub.source.is_symlink():
        intake.problem("", "The submission itself is a symbolic link; it was not followed.")
    elif sub.source.is_dir():
        seen = _from_folder(sub.source, modules, intake)
    elif sub.source.stat().st_size > MAX_TOTAL_BYTES:
        intake.problem("", f"{sub.source.name} is larger than {MAX_TOTAL_BYTES} bytes; "
                           "submit only your exercise modules.")
    elif zipfile.is_zipfile(sub.source):
        seen = _from_zip(sub.source, modules, intake)
    else:
        intake.problem("", f"{sub.source.name} is neither a folder nor a zip file.")
    for name in modules:
        if name not in intake.modules and name not in intake.problems and "" not in intake.problems:
            intake.problem(name, not_found(name, seen))
    _name_the_copies_left(intake, seen)
    return intake


def _name_the_copies_left(intake: Intake, seen: Sequence[str]) -> None:
    """A note beside each module taken from one of several files that are it (another
    case, a copy's name): which was graded and which were not, so that nobody is graded
    on an older download without knowing."""
    for name, taken in intake.taken_from.items():
        others = sorted({n for n in seen if n != taken
                         and (n.casefold() == name.casefold() or is_copy(n, name))})
        if others:
            intake.notes.setdefault(name, []).append(
                f"{taken} was graded; {', '.join(others)} beside it "
                f"{'was' if len(others) == 1 else 'were'} not. Keep one file per exercise, "
                f"named {name}.")


def content_hash(intake: Intake, salt: str) -> str:
    """A hash of exactly what would be graded, plus the grader's own fingerprint."""
    digest = hashlib.sha256(salt.encode())
    for name in sorted(intake.modules):
        digest.update(name.encode() + b"\0" + intake.modules[name].encode() + b"\0")
    for name in sorted(intake.problems):
        digest.update(("|".join(intake.problems[name])).encode())
    for name in sorted(intake.notes):
        digest.update(("|".join(intake.notes[name])).encode())
    return digest.hexdigest()


def write_copy(intake: Intake, dest: Path) -> Path:
    """Write ONLY the taken modules into ``dest``, readable by the sandbox user, each in the
    encoding its first lines declare (UTF-8 unless one names another)."""
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o755)
    for name, text in intake.modules.items():
        target = dest / name
        target.write_bytes(text.encode(source_encoding(text.encode("utf-8"))))  # as it came
        target.chmod(0o644)
    return dest
