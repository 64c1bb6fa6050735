"""Hand-ins from Windows and macOS laptops: what the OS adds is never the student's work.

A file Python runs (CRLF, a UTF-8 BOM) is taken as it is; one it cannot (UTF-16, cp1252
bytes) gets a sentence naming the fix; Finder's and Explorer's extra files are nobody's
code and nobody's row; a zip written with backslashes, a name in other case and a
decomposed (NFD) folder name still reach the student's own row, with full marks.
"""

from __future__ import annotations

import csv
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

from day25.course.grading.intake import (
    Submission,
    content_hash,
    take_modules,
    write_copy,
)
from day25.course.grading.students import discover

COURSE = Path(__file__).resolve().parents[2]
MODULES = ["priority_ordering.py", "once_semantics.py", "chat_broadcasting.py",
           "notification_queueing.py"]
SOURCE = "from day25 import EventPriority\n\n\nclass PriorityEmitter:\n    pass\n"
APPLEDOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\x00" * 40


def _folder(path: Path, files: dict[str, bytes]) -> Path:
    path.mkdir(parents=True)
    for name, data in files.items():
        (path / name).write_bytes(data)
    return path


def _take(path: Path) -> tuple[dict[str, str], dict[str, list[str]], dict[str, list[str]]]:
    intake = take_modules(Submission("s", path), MODULES[:2])
    return intake.modules, intake.problems, getattr(intake, "notes", {})  # {}: before notes


def test_crlf_and_a_utf8_bom_are_taken_as_python_reads_them(tmp_path: Path) -> None:
    crlf = SOURCE.replace("\n", "\r\n")
    modules, problems, _ = _take(_folder(tmp_path / "win", {
        "priority_ordering.py": crlf.encode(),
        "once_semantics.py": b"\xef\xbb\xbf" + SOURCE.encode()}))
    assert modules == {"priority_ordering.py": crlf, "once_semantics.py": "\ufeff" + SOURCE}
    assert problems == {}


def test_utf16_says_save_it_as_utf8_and_not_a_byte_offset(tmp_path: Path) -> None:
    data = b"\xff\xfe" + SOURCE.replace("\n", "\r\n").encode("utf-16-le")  # PowerShell 5 `>`
    _, problems, _ = _take(_folder(tmp_path / "ps", {"priority_ordering.py": data}))
    assert problems["priority_ordering.py"] == [
        "priority_ordering.py is saved as UTF-16, which Python cannot run; save it as UTF-8 "
        "in your editor."]


def test_utf16_without_a_byte_order_mark_is_named_too(tmp_path: Path) -> None:
    # PowerShell 7's `Out-File -Encoding unicode` and some editors write UTF-16 without a
    # BOM: every other byte of ASCII text is a NUL, which is valid UTF-8 that Python
    # refuses ("source code cannot contain null bytes")
    for codec in ("utf-16-le", "utf-16-be"):
        _, problems, _ = _take(_folder(tmp_path / codec, {
            "priority_ordering.py": SOURCE.encode(codec)}))
        assert problems["priority_ordering.py"] == [
            "priority_ordering.py is saved as UTF-16, which Python cannot run; save it as "
            "UTF-8 in your editor."], codec


def test_a_file_that_declares_its_encoding_is_taken_as_python_reads_it(tmp_path: Path) -> None:
    # PEP 263: "# -*- coding: cp1252 -*-" on its first two lines makes Python read the file
    # as cp1252 (older tutorials still write it): it runs, so it is graded, byte for byte
    text = "# -*- coding: cp1252 -*-\n" + SOURCE + 'NAME = "café"\n'
    folder = _folder(tmp_path / "declared", {"priority_ordering.py": text.encode("cp1252")})
    intake = take_modules(Submission("s", folder), MODULES[:1])
    assert intake.modules == {"priority_ordering.py": text} and intake.problems == {}
    copy = write_copy(intake, tmp_path / "copy")
    assert (copy / "priority_ordering.py").read_bytes() == text.encode("cp1252")
    ran = subprocess.run([sys.executable, "-c", "import priority_ordering as m; print(m.NAME)"],
                         cwd=copy, capture_output=True, text=True, encoding="utf-8", timeout=60,
                         env={"PYTHONPATH": str(COURSE / "src"), "PYTHONIOENCODING": "utf-8"})
    assert ran.stdout.strip() == "café", ran.stderr


def test_bytes_its_declared_encoding_cannot_decode_name_that_encoding(tmp_path: Path) -> None:
    data = b"# -*- coding: ascii -*-\n" + SOURCE.encode() + 'NAME = "caf\u00e9"\n'.encode()
    _, problems, _ = _take(_folder(tmp_path / "ascii", {"priority_ordering.py": data}))
    assert problems["priority_ordering.py"] == [
        "priority_ordering.py is not ascii text, as its first lines declare: line 7 holds the "
        "byte 0xc3; save it as UTF-8 in your editor (and drop the coding line)."]


def test_a_nul_byte_in_utf8_text_names_its_line(tmp_path: Path) -> None:
    data = (SOURCE + "NAME = 'a\x00b'\n").encode().replace(b"\\x00", b"\x00")
    _, problems, _ = _take(_folder(tmp_path / "nul", {"priority_ordering.py": data}))
    assert problems["priority_ordering.py"] == [
        "priority_ordering.py holds a NUL byte (line 6), which Python cannot run; save it "
        "again as UTF-8 text in your editor."]


def test_cp1252_bytes_name_the_line_and_the_byte(tmp_path: Path) -> None:
    data = (SOURCE + '# notes from the café\nNAME = "Zoë"\n').encode("cp1252")
    _, problems, _ = _take(_folder(tmp_path / "ansi", {"priority_ordering.py": data}))
    assert problems["priority_ordering.py"] == [
        "priority_ordering.py is not UTF-8 text: line 6 holds the byte 0xe9, which UTF-8 "
        "cannot decode (saved as Windows-1252 or Latin-1?); save it as UTF-8 in your "
        "editor."]


def test_a_finder_zip_takes_the_real_files_not_the_appledouble_ones(tmp_path: Path) -> None:
    archive = tmp_path / "ann.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("ann/.DS_Store", b"\x00\x00\x00\x01Bud1")
        zf.writestr("__MACOSX/ann/._priority_ordering.py", APPLEDOUBLE)
        zf.writestr("__MACOSX/priority_ordering.py", b"NOT = 'the student's'\n")
        zf.writestr("ann/priority_ordering.py", SOURCE)
        zf.writestr("__MACOSX/ann/._once_semantics.py", APPLEDOUBLE)
    modules, problems, notes = _take(archive)
    assert modules == {"priority_ordering.py": SOURCE} and notes == {}
    assert problems == {"once_semantics.py": ["once_semantics.py was not found in the "
                                              "submission."]}


def test_a_zip_written_with_backslashes_is_read_as_folders(tmp_path: Path) -> None:
    archive = tmp_path / "bea.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in MODULES[:2]:
            info = zipfile.ZipInfo(f"My Exercises\\{name}", (2026, 12, 1, 10, 0, 0))
            info.create_system = 0  # MS-DOS, as PowerShell 5's Compress-Archive writes
            zf.writestr(info, SOURCE.replace("\n", "\r\n"))
    modules, problems, _ = _take(archive)
    assert sorted(modules) == sorted(MODULES[:2]) and problems == {}


def test_a_name_in_other_case_is_graded_with_a_note_in_a_folder_and_a_zip(
        tmp_path: Path) -> None:
    note = ("Your file is named Priority_Ordering.py; it was taken as priority_ordering.py. "
            "Name it priority_ordering.py exactly: Windows and macOS ignore the case of a file "
            "name, other systems do not.")
    folder = _folder(tmp_path / "cal", {"Priority_Ordering.py": SOURCE.encode(),
                                        "once_semantics.py": SOURCE.encode()})
    archive = tmp_path / "cal.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("cal/Priority_Ordering.py", SOURCE)
        zf.writestr("cal/once_semantics.py", SOURCE)
    for path in (folder, archive):
        modules, problems, notes = _take(path)
        assert sorted(modules) == sorted(MODULES[:2]) and problems == {}, path
        assert notes == {"priority_ordering.py": [note]}, path
    # the exact name wins over another case; two other cases in a folder: the name is said
    both = _folder(tmp_path / "dee", {"priority_ordering.py": b"A = 1\n",
                                      "Priority_Ordering.py": b"B = 2\n",
                                      "ONCE_SEMANTICS.py": b"", "Once_Semantics.py": b""})
    modules, problems, notes = _take(both)
    assert modules == {"priority_ordering.py": "A = 1\n"}
    assert notes == {"priority_ordering.py": [  # the other one is named (an instructor's test)
        "priority_ordering.py was graded; Priority_Ordering.py beside it was not. Keep one "
        "file per exercise, named priority_ordering.py."]}
    assert problems == {"once_semantics.py": [
        "once_semantics.py was not found in the submission. It holds ONCE_SEMANTICS.py, "
        "Once_Semantics.py: keep one, named once_semantics.py exactly."]}
    digest = content_hash(take_modules(Submission("c", folder), MODULES[:2]), "s")
    (folder / "Priority_Ordering.py").rename(folder / "priority_ordering.py")
    assert content_hash(take_modules(Submission("c", folder), MODULES[:2]), "s") != digest


def test_a_notebook_handed_in_instead_of_the_module_is_named(tmp_path: Path) -> None:
    notebook = (COURSE / "exercises" / "priority_ordering.ipynb").read_bytes()
    folder = _folder(tmp_path / "eve", {
        "priority_ordering.ipynb": b"\xef\xbb\xbf" + notebook.replace(b"\n", b"\r\n"),
        "once_semantics.py": SOURCE.encode()})
    modules, problems, _ = _take(folder)
    assert sorted(modules) == ["once_semantics.py"]
    assert problems == {"priority_ordering.py": [
        "priority_ordering.py was not found in the submission. It holds "
        "priority_ordering.ipynb, but a notebook is not graded: your code is in "
        "priority_ordering.py, the file next to it that the notebook loads; hand in that "
        "file."]}


def test_a_module_under_another_name_is_named(tmp_path: Path) -> None:
    """An instructor's test: priority_order.py handed in for priority_ordering.py was only
    told "priority_ordering.py was not found", not which file was there instead."""
    folder = _folder(tmp_path / "xav", {"priority_order.py": SOURCE.encode(),
                                         "once_semantics.py": SOURCE.encode(),
                                         "notes.py": b"x = 1\n"})
    modules, problems, _ = _take(folder)
    assert sorted(modules) == ["once_semantics.py"]
    assert problems == {"priority_ordering.py": [
        "priority_ordering.py was not found in the submission. It holds priority_order.py: "
        "if that is this exercise, name it priority_ordering.py exactly (only that name is "
        "graded)."]}


def _junk_class(klass: Path) -> None:
    """What a class folder unzipped on a Mac and copied through Windows also holds."""
    (klass / "__MACOSX").mkdir(parents=True)
    (klass / "__MACOSX" / "._ann.zip").write_bytes(APPLEDOUBLE)
    (klass / "__MACOSX" / "priority_ordering.py").write_text(SOURCE)  # never a student
    for name, data in {"._ann.zip": APPLEDOUBLE, ".DS_Store": b"\x00\x00\x00\x01Bud1",
                       "Thumbs.db": b"\xd0\xcf\x11\xe0", "desktop.ini": b"[.ShellClassInfo]\r\n",
                       "ann.zip:Zone.Identifier": b"[ZoneTransfer]\r\nZoneId=3\r\n"}.items():
        (klass / name).write_bytes(data)


def test_laptop_junk_is_nobodys_row_and_names_fold_to_one_stable_id(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    _junk_class(klass)
    for name in (unicodedata.normalize("NFD", "José"), "Jane Doe", "Zoë"):
        _folder(klass / name, {"priority_ordering.py": SOURCE.encode(),
                               "priority_ordering.py:Zone.Identifier": b"[ZoneTransfer]\r\n",
                               "._priority_ordering.py": APPLEDOUBLE})
    assert sorted(s.student for s in discover([klass], MODULES)) == ["Jane_Doe", "Jose", "Zoe"]
    nfc = _folder(tmp_path / unicodedata.normalize("NFC", "José"), {})
    assert [s.student for s in discover([nfc], MODULES, single=True)] == ["Jose"]
    modules, problems, notes = _take(klass / "Jane Doe")
    assert sorted(modules) == ["priority_ordering.py"] and notes == {}
    assert sorted(problems) == ["once_semantics.py"]


def test_day25_grade_gives_a_laptops_hand_in_full_marks_and_its_note(tmp_path: Path) -> None:
    """The real command, the sandbox and all: one exercise each, to stay quick."""
    klass = tmp_path / "class"
    _junk_class(klass)
    solution = (COURSE / "solutions" / "priority_ordering.py").read_bytes()
    windows = b"\xef\xbb\xbf" + solution.replace(b"\n", b"\r\n")
    _folder(klass / unicodedata.normalize("NFD", "José"), {"Priority_Ordering.py": windows})
    with zipfile.ZipFile(klass / "ann.zip", "w") as zf:
        zf.writestr("ann\\priority_ordering.py", windows)
        zf.writestr("__MACOSX/ann/._priority_ordering.py", APPLEDOUBLE)
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "grade", str(klass), "--out",
                           str(out), "--jobs", "2", "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=600, cwd=COURSE)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    with (out / "gradebook.csv").open() as fh:
        rows = {row["student"]: row["priority_ordering"] for row in csv.DictReader(fh)}
    assert rows == {"Jose": "25", "ann": "25"}, proc.stdout
    feedback = " ".join((out / "Jose" / "feedback.md").read_text().split())
    assert ("Your file is named Priority_Ordering.py; it was taken as priority_ordering.py."
            in feedback)
    assert "was taken as" not in (out / "ann" / "feedback.md").read_text()


def test_the_only_copy_of_a_module_is_taken_with_a_note(tmp_path: Path) -> None:
    """A browser's second download (``x (1).py``) or Explorer's ``x - Copy.py``, alone."""
    modules, problems, notes = _take(_folder(tmp_path / "dl", {
        "priority_ordering (1).py": SOURCE.encode(),
        "once_semantics - Copy.py": SOURCE.encode(),
        "once_semantics_old.py": b"OLD = 1\n"}))
    assert modules == {"priority_ordering.py": SOURCE, "once_semantics.py": SOURCE}
    assert problems == {}
    assert notes["priority_ordering.py"] == [
        "Your file is named priority_ordering (1).py; it was taken as priority_ordering.py. "
        "Name it priority_ordering.py exactly: a second download or copy of a file gets a new "
        "name, and only the exact name is sure to be graded."]


def test_the_exact_name_beats_a_copy_and_two_copies_are_named_not_guessed(tmp_path: Path) -> None:
    modules, problems, notes = _take(_folder(tmp_path / "two", {
        "priority_ordering.py": SOURCE.encode(),
        "priority_ordering (1).py": b"OLDER = 1\n",
        "once_semantics (1).py": b"A = 1\n",
        "once_semantics (2).py": b"B = 2\n"}))
    assert modules == {"priority_ordering.py": SOURCE}
    assert notes == {"priority_ordering.py": [
        "priority_ordering.py was graded; priority_ordering (1).py beside it was not. Keep "
        "one file per exercise, named priority_ordering.py."]}
    assert problems == {"once_semantics.py": [
        "once_semantics.py was not found in the submission. It holds once_semantics (1).py, "
        "once_semantics (2).py: keep one, named once_semantics.py exactly."]}


def test_a_zip_prefers_the_exact_name_then_other_case_then_a_copy(tmp_path: Path) -> None:
    archive = tmp_path / "cai.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("cai/priority_ordering-1.py", b"LMS = 1\n")  # a resubmission, renamed
        zf.writestr("cai/Priority_Ordering.py", SOURCE)
        zf.writestr("cai/once_semantics 2.py", SOURCE)  # Finder's duplicate
    modules, problems, notes = _take(archive)
    assert modules == {"priority_ordering.py": SOURCE, "once_semantics.py": SOURCE}
    assert problems == {}
    taken = [n.split(";")[0] for name in MODULES[:2] for n in notes[name]]
    assert taken == ["Your file is named Priority_Ordering.py",
                     "Priority_Ordering.py was graded",
                     "Your file is named once_semantics 2.py"]
