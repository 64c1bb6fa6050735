"""A class as an LMS hands it over: Canvas's "Download Submissions" is one flat folder.

Canvas names every uploaded file ``<name>_<user id>_<attachment id>_<file>`` (``<name>_late_``
when it came after the deadline) and puts all of them side by side; a re-upload of the same
file name becomes ``<file>-1.py``. An instructor unzips that and runs ``day25 grade`` on it:
each student gets one row, named ``<name>_<user id>`` (the id Canvas's gradebook knows),
holding every file that student uploaded, a zip among them included. Folders and zips that
are not Canvas's are students as before, beside them.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from day25.course.grading.intake import MAX_TOTAL_BYTES, take_modules
from day25.course.grading.students import discover

MODULES = ["priority_ordering.py", "once_semantics.py", "chat_broadcasting.py"]
CODE = {name: f"# {name}\nVALUE = {i}\n" for i, name in enumerate(MODULES)}


def _export(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True)
    for name, data in files.items():
        target = folder / name
        if isinstance(data, str):
            target.write_text(data, encoding="utf-8")
        else:
            target.write_bytes(data)
    return folder


def _zip(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buffer.getvalue()


def _grade_view(folder: Path) -> dict[str, tuple[dict[str, str], dict[str, list[str]],
                                                 dict[str, list[str]]]]:
    subs = discover([folder], MODULES)
    out = {}
    for sub in subs:
        intake = take_modules(sub, MODULES)
        out[sub.student] = (intake.modules, intake.problems, intake.notes)
    return out


def test_a_canvas_folder_is_one_row_per_student_with_all_their_files(tmp_path: Path) -> None:
    export = _export(tmp_path / "submissions", {
        "smithbob_340934_208490284_priority_ordering.py": CODE["priority_ordering.py"],
        "smithbob_340934_208490285_once_semantics.py": CODE["once_semantics.py"],
        "smithbob_340934_208490286_chat_broadcasting.py": CODE["chat_broadcasting.py"],
        "wellslane_late_334244_394803489_day25.zip": _zip(
            {f"day25/{name}": text for name, text in CODE.items()}),
        "doejane_1234_5678_priority_ordering-1.py": CODE["priority_ordering.py"],
        "roeann_late_77_88_once_semantics.py": CODE["once_semantics.py"],
    })
    view = _grade_view(export)
    assert sorted(view) == ["doejane_1234", "roeann_77", "smithbob_340934", "wellslane_334244"]
    assert view["roeann_77"][2] == {"once_semantics.py": [
        "Handed in late: the LMS named the file roeann_late_77_88_once_semantics.py."]}
    assert view["smithbob_340934"] == (CODE, {}, {})
    assert view["wellslane_334244"][0] == CODE  # late, and a zip: still every module
    # late is said beside each module it holds, so a late penalty can be applied
    late = "Handed in late: the LMS named the file wellslane_late_334244_394803489_day25.zip."
    assert view["wellslane_334244"][2] == {name: [late] for name in MODULES}
    modules, problems, notes = view["doejane_1234"]
    assert modules == {"priority_ordering.py": CODE["priority_ordering.py"]}
    assert notes["priority_ordering.py"] == [
        "Your file is named priority_ordering-1.py; it was taken as priority_ordering.py. "
        "Name it priority_ordering.py exactly: a second download or copy of a file gets a new "
        "name, and only the exact name is sure to be graded."]
    assert problems == {"once_semantics.py": ["once_semantics.py was not found in the "
                                              "submission."],
                        "chat_broadcasting.py": ["chat_broadcasting.py was not found in the "
                                                 "submission."]}


def test_a_students_files_never_reach_another_student(tmp_path: Path) -> None:
    # Canvas's ids: same name, two people (two user ids), and a name that prefixes another
    export = _export(tmp_path / "submissions", {
        "leeann_11_21_priority_ordering.py": "A = 1\n",
        "leeann_12_22_priority_ordering.py": "A = 2\n",
        "lee_13_23_priority_ordering.py": "A = 3\n",
    })
    view = _grade_view(export)
    assert {s: v[0] for s, v in view.items()} == {
        "leeann_11": {"priority_ordering.py": "A = 1\n"},
        "leeann_12": {"priority_ordering.py": "A = 2\n"},
        "lee_13": {"priority_ordering.py": "A = 3\n"},
    }


def test_other_students_beside_an_export_are_graded_as_before(tmp_path: Path) -> None:
    export = _export(tmp_path / "submissions", {
        "smithbob_340934_208490284_priority_ordering.py": CODE["priority_ordering.py"],
        "carol.zip": _zip({"priority_ordering.py": CODE["priority_ordering.py"]}),
        "notes.txt": "not a student",
    })
    _export(export / "dave", {"priority_ordering.py": CODE["priority_ordering.py"]})
    view = _grade_view(export)
    assert sorted(view) == ["carol", "dave", "smithbob_340934"]
    assert all(v[0] == {"priority_ordering.py": CODE["priority_ordering.py"]}
               for v in view.values())


def test_an_exported_file_that_is_a_link_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'grader'\n", encoding="utf-8")
    export = _export(tmp_path / "submissions", {})
    (export / "evebad_66_77_priority_ordering.py").symlink_to(secret)
    view = _grade_view(export)
    modules, problems, _ = view["evebad_66"]
    assert modules == {}
    assert problems["priority_ordering.py"] == [
        "priority_ordering.py is a symbolic link; links are not followed. Submit the file "
        "itself."]


def test_moodle_folders_of_one_participant_are_one_student(tmp_path: Path) -> None:
    # Moodle's "Download all submissions": a folder per participant and submission plugin,
    # "<full name>_<participant id>_assignsubmission_<plugin>_"; the online text is nobody's
    # module, and must not be a second row scoring 0
    export = _export(tmp_path / "submissions", {})
    _export(export / "Ann Lee_1201_assignsubmission_file_", {
        "priority_ordering.py": CODE["priority_ordering.py"]})
    _export(export / "Ann Lee_1201_assignsubmission_file_" / "more", {
        "once_semantics.py": CODE["once_semantics.py"]})
    _export(export / "Ann Lee_1201_assignsubmission_onlinetext_", {
        "onlinetext.html": "<p>done!</p>"})
    _export(export / "Bo Chen_1202_assignsubmission_file_", {
        "day25.zip": _zip({"chat_broadcasting.py": CODE["chat_broadcasting.py"]})})
    view = _grade_view(export)
    assert sorted(view) == ["Ann_Lee_1201", "Bo_Chen_1202"]
    assert view["Ann_Lee_1201"][0] == {name: CODE[name] for name in MODULES[:2]}
    assert view["Bo_Chen_1202"][0] == {"chat_broadcasting.py": CODE["chat_broadcasting.py"]}


def test_an_empty_moodle_folder_is_a_student_with_nothing_found(tmp_path: Path) -> None:
    export = _export(tmp_path / "submissions", {})
    (export / "Cy Dee_1203_assignsubmission_file_").mkdir()
    _export(export / "dave", {"priority_ordering.py": CODE["priority_ordering.py"]})
    view = _grade_view(export)
    assert view["Cy_Dee_1203"][0] == {}  # never the export folder read as its own
    assert view["Cy_Dee_1203"][1]["priority_ordering.py"] == [
        "priority_ordering.py was not found in the submission."]


def test_an_exported_zip_over_the_size_limit_is_refused_in_a_sentence(tmp_path: Path) -> None:
    export = _export(tmp_path / "submissions", {})
    huge = export / "bigfile_88_99_day25.zip"
    with huge.open("wb") as fh:  # sparse: no disk is spent
        fh.truncate(MAX_TOTAL_BYTES + 1)
    modules, problems, _ = _grade_view(export)["bigfile_88"]
    assert modules == {}
    assert problems[""] == [f"day25.zip is larger than {MAX_TOTAL_BYTES} bytes; submit only "
                            "your exercise modules."]
