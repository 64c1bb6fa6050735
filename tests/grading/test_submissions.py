"""Taking modules out of submissions: every bad input gets a sentence, nothing else is taken."""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

import pytest

from day25.course.grading.intake import (
    MAX_MODULE_BYTES,
    MAX_TOTAL_BYTES,
    Submission,
    content_hash,
    take_modules,
)
from day25.course.grading.students import discover

MODULES = ["priority_ordering.py", "once_semantics.py"]


def _zip(path: Path, entries: dict[str, bytes], *, links: dict[str, str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


def test_folder_gives_only_catalogue_modules(tmp_path: Path) -> None:
    sub = tmp_path / "alice"
    sub.mkdir()
    (sub / "priority_ordering.py").write_text("X = 1\n")
    (sub / "conftest.py").write_text("raise SystemExit\n")
    (sub / "results.json").write_text("[]")
    intake = take_modules(Submission("alice", sub), MODULES)
    assert intake.modules == {"priority_ordering.py": "X = 1\n"}
    missing = ["once_semantics.py was not found in the submission."]
    assert intake.problems == {"once_semantics.py": missing}


def test_zip_nested_one_folder_is_accepted(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bob.zip", {"bob/priority_ordering.py": b"Y = 2\n",
                                          "bob/conftest.py": b"import os\n"})
    intake = take_modules(Submission("bob", archive), MODULES)
    assert intake.modules == {"priority_ordering.py": "Y = 2\n"}


def test_zip_path_escape_rejects_the_whole_zip_and_writes_nothing(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "eve.zip", {"../../evil.py": b"x", "priority_ordering.py": b"X=1"})
    intake = take_modules(Submission("eve", archive), MODULES)
    assert intake.modules == {}
    assert "points outside the submission folder" in intake.problems[""][0]
    assert not (tmp_path.parent / "evil.py").exists()


def test_zip_bomb_rejected_by_ratio_and_size(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bomb.zip", {"priority_ordering.py": b"\0" * (MAX_TOTAL_BYTES + 1)})
    intake = take_modules(Submission("bomb", archive), MODULES)
    assert intake.modules == {}
    assert "zip bomb" in intake.problems[""][0]
    small = _zip(tmp_path / "ratio.zip", {"priority_ordering.py": b"\0" * 4_000_000})
    assert "compresses more than" in take_modules(Submission("r", small), MODULES).problems[""][0]


def test_symlink_entries_and_links_are_not_followed(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "l.zip", {}, links={"priority_ordering.py": "/etc/passwd"})
    intake = take_modules(Submission("l", archive), MODULES)
    assert "symbolic link" in intake.problems["priority_ordering.py"][0]
    folder = tmp_path / "mallory"
    folder.mkdir()
    secret = tmp_path / "secret.py"
    secret.write_text("SOLUTION = 1\n")
    os.symlink(secret, folder / "priority_ordering.py")
    intake = take_modules(Submission("mallory", folder), MODULES)
    assert "priority_ordering.py" not in intake.modules
    assert "symbolic link" in intake.problems["priority_ordering.py"][0]


def test_non_utf8_source_gets_a_clear_message(tmp_path: Path) -> None:
    folder = tmp_path / "latin"
    folder.mkdir()
    (folder / "priority_ordering.py").write_bytes("# café\n".encode("latin-1"))
    intake = take_modules(Submission("latin", folder), MODULES)
    assert "is not UTF-8 text" in intake.problems["priority_ordering.py"][0]


def test_not_a_zip_and_garbled_zip(tmp_path: Path) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really")
    intake = take_modules(Submission("junk", junk), MODULES)
    assert intake.modules == {} and intake.problems[""]


def test_a_module_loose_in_a_class_folder_is_nobodys_and_the_class_stays_a_class(
    tmp_path: Path,
) -> None:
    """An instructor's test: one stray once_semantics.py beside amy/, bob/ and zed/ made
    the whole class ONE student, graded on amy's file; bob and zed had no row."""
    klass = tmp_path / "class"
    for student in ("amy", "bob"):
        (klass / student).mkdir(parents=True)
        (klass / student / "priority_ordering.py").write_text(f"WHO = {student!r}\n")
    (klass / "zed").mkdir()
    (klass / "once_semantics.py").write_text("X = 1\n")
    told: list[str] = []
    subs = discover([klass], MODULES, told=told)
    assert [s.student for s in subs] == ["amy", "bob", "zed"]
    assert take_modules(subs[1], MODULES).modules == {"priority_ordering.py": "WHO = 'bob'\n"}
    assert len(told) == 1 and f"{klass / 'once_semantics.py'} is loose" in told[0], told
    assert "it is nobody's, and was not graded" in told[0]
    # one student's folder with a backup subfolder is still one student, and says nothing
    (klass / "amy" / "old").mkdir()
    (klass / "amy" / "old" / "priority_ordering.py").write_text("WHO = 'old amy'\n")
    told.clear()
    assert [s.student for s in discover([klass / "amy"], MODULES, told=told)] == ["amy"]
    assert told == []


def test_a_folder_graded_as_one_student_through_its_only_subfolder_says_so(
    tmp_path: Path,
) -> None:
    """class8/alice/priority_ordering.py: one student whose files are in a folder of
    their own, or a class of one? It is graded as one (as a zip unpacked into its own
    folder is), and the instructor is told how to grade the other way."""
    (tmp_path / "class8" / "alice").mkdir(parents=True)
    (tmp_path / "class8" / "alice" / "priority_ordering.py").write_text("X = 1\n")
    told: list[str] = []
    assert [s.student for s in discover([tmp_path / "class8"], MODULES, told=told)] == [
        "class8"]
    assert told == [f"{tmp_path / 'class8'} is graded as ONE student, class8, whose files are "
                    f"in alice, the only folder down from it. If {tmp_path / 'class8'} is a "
                    f"class of one student, grade {tmp_path / 'class8' / 'alice'} instead."]
    told.clear()
    assert [s.student for s in discover([tmp_path / "class8" / "alice"], MODULES,
                                        told=told)] == ["alice"]
    assert told == []


def test_modules_a_chain_of_only_folders_down_are_the_students(tmp_path: Path) -> None:
    """An instructor's test: lena's files in lena/Downloads/day25/ got 0 in a class folder
    ("not found", nothing on the console), and 100 under the id "Downloads" when lena's
    folder was named on the command line. A chain of only folders is one student's
    folder, as one only subfolder is; a folder beside the chain breaks it."""
    klass = tmp_path / "class"
    deep = klass / "lena" / "Downloads" / "day25"
    deep.mkdir(parents=True)
    (deep / "priority_ordering.py").write_text("WHO = 'lena'\n")
    (klass / "dave").mkdir()
    (klass / "dave" / "priority_ordering.py").write_text("WHO = 'dave'\n")
    subs = discover([klass], MODULES)
    assert [s.student for s in subs] == ["dave", "lena"]
    assert take_modules(subs[1], MODULES).modules == {"priority_ordering.py": "WHO = 'lena'\n"}
    told: list[str] = []
    subs = discover([klass / "lena", klass / "dave"], MODULES, told=told)
    assert [s.student for s in subs] == ["lena", "dave"]
    assert told == [f"{klass / 'lena'} is graded as ONE student, lena, whose files are in "
                    f"Downloads/day25, the only folder down from it. If {klass / 'lena'} is "
                    f"a class of one student, grade {deep} instead."]
    (klass / "lena" / "Downloads" / "other").mkdir()  # not a chain any more: not guessed
    assert take_modules(Submission("lena", klass / "lena"), MODULES).modules == {}


def test_an_unreadable_folder_down_the_chain_ends_it_without_an_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Intake never raises for bad input: a folder it may not list (root reads every
    folder, so the refusal is simulated) ends the chain; the student's 0 says why."""
    deep = tmp_path / "kim" / "Downloads" / "day25"
    deep.mkdir(parents=True)
    (deep / "priority_ordering.py").write_text("X = 1\n")
    listing = Path.iterdir

    def refused(self: Path):  # type: ignore[no-untyped-def]
        if self == deep.parent:
            raise PermissionError(13, "Permission denied", str(self))
        return listing(self)

    monkeypatch.setattr(Path, "iterdir", refused)
    intake = take_modules(Submission("kim", tmp_path / "kim"), MODULES)
    assert intake.modules == {}
    assert intake.problems["priority_ordering.py"][0].startswith(
        "priority_ordering.py was not found in the submission.")


def test_the_exact_name_is_graded_and_its_copies_beside_it_are_named(tmp_path: Path) -> None:
    """An instructor's test: omar's once_semantics.py was graded and his "once_semantics
    (1).py" (a browser's name for the newer download) dropped without a word."""
    omar = tmp_path / "omar"
    omar.mkdir()
    (omar / "priority_ordering.py").write_text("WHO = 'old'\n")
    (omar / "priority_ordering (1).py").write_text("WHO = 'new'\n")
    archive = tmp_path / "omar.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("priority_ordering.py", "WHO = 'old'\n")
        zf.writestr("Priority_Ordering.py", "WHO = 'other'\n")
    for sub, other in ((omar, "priority_ordering (1).py"), (archive, "Priority_Ordering.py")):
        intake = take_modules(Submission("omar", sub), MODULES)
        assert intake.modules == {"priority_ordering.py": "WHO = 'old'\n"}
        assert intake.notes["priority_ordering.py"] == [
            f"priority_ordering.py was graded; {other} beside it was not. Keep one file "
            "per exercise, named priority_ordering.py."], sub


def test_an_empty_module_is_said_to_be_empty_not_graded_test_by_test(tmp_path: Path) -> None:
    """An instructor's test: hank's empty priority_ordering.py got "Creating the object
    under test failed: AttributeError: module 'priority_ordering' has no attribute
    'PriorityEmitter'" twenty times, where one sentence says what happened."""
    hank = tmp_path / "hank"
    hank.mkdir()
    (hank / "priority_ordering.py").write_text("\n  \n")
    (hank / "once_semantics.py").write_text("# TODO\n")  # a comment is something
    intake = take_modules(Submission("hank", hank), MODULES)
    assert "priority_ordering.py" not in intake.modules and "once_semantics.py" in intake.modules
    assert intake.problems["priority_ordering.py"] == [
        "priority_ordering.py is empty (nothing but blank lines): there is nothing to grade. "
        "Was it saved before it was handed in?"]


def test_discover_class_folder_ids_and_clashes(tmp_path: Path) -> None:
    klass = tmp_path / "class"
    (klass / "ann").mkdir(parents=True)
    (klass / "ann" / "priority_ordering.py").write_text("")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("priority_ordering.py", "")
    (klass / "ann.zip").write_bytes(buf.getvalue())
    (klass / "carl o's.zip").write_bytes(buf.getvalue())
    subs = discover([klass], MODULES)
    assert sorted(s.student for s in subs) == ["ann", "ann-2", "carl_o_s"]
    assert [s.student for s in discover([klass / "ann"], MODULES)] == ["ann"]


def test_a_made_safe_name_never_takes_a_classmates_id(tmp_path: Path) -> None:
    """``_alice`` sorts before ``alice`` and is ``alice`` once made safe: it gets
    ``alice-2``, said so; the real alice keeps her row. No id is an output's name,
    and ids differ without case (one folder on macOS and Windows)."""
    klass = tmp_path / "class"
    for name in ("_alice", "alice", "Bob", "bob", "gradebook.csv", "grades.png", "alice-2"):
        (klass / name).mkdir(parents=True)
        (klass / name / "priority_ordering.py").write_text("")
    subs = {s.source.name: s for s in discover([klass], MODULES)}
    assert subs["alice"].student == "alice" and not subs["alice"].renamed
    assert subs["alice-2"].student == "alice-2"  # a real name, kept
    assert subs["_alice"].student == "alice-3"
    assert "_alice is graded as alice-3" in subs["_alice"].renamed
    assert {subs["Bob"].student.casefold(), subs["bob"].student.casefold()} == {"bob", "bob-2"}
    assert subs["gradebook.csv"].student == "gradebook.csv-2"
    assert subs["grades.png"].student == "grades.png-2"
    ids = [s.student.casefold() for s in subs.values()]
    assert len(ids) == len(set(ids))


def test_content_hash_follows_content_and_salt(tmp_path: Path) -> None:
    folder = tmp_path / "h"
    folder.mkdir()
    (folder / "priority_ordering.py").write_text("A = 1\n")
    first = content_hash(take_modules(Submission("h", folder), MODULES), "s")
    (folder / "notes.txt").write_text("ignored")
    assert content_hash(take_modules(Submission("h", folder), MODULES), "s") == first
    assert content_hash(take_modules(Submission("h", folder), MODULES), "t") != first
    (folder / "priority_ordering.py").write_text("A = 2\n")
    assert content_hash(take_modules(Submission("h", folder), MODULES), "s") != first


def test_oversized_module_and_oversized_archive(tmp_path: Path) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "priority_ordering.py").write_bytes(b"#" * (MAX_MODULE_BYTES + 10))
    intake = take_modules(Submission("big", folder), MODULES)
    assert "larger than the" in intake.problems["priority_ordering.py"][0]
    huge = tmp_path / "huge.zip"
    huge.write_bytes(os.urandom(MAX_TOTAL_BYTES + 1))
    assert "larger than" in take_modules(Submission("huge", huge), MODULES).problems[""][0]
