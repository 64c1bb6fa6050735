"""A hidden suite is a folder: its files are found, fingerprinted and share their helpers.

The catalogue names each exercise's hidden suite as a folder of test modules and
the helper modules they load with :func:`day25.course.harness.load_beside`. What
decides a grade is every file of that folder and the conftests above it, so a
change to any of them must change the fingerprint that makes ``day25 grade
--resume`` grade again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from day25.course.catalogue import Exercise
from day25.course.grading.batch import grader_fingerprint
from day25.course.harness import load_beside


def _course(root: Path) -> Exercise:
    suite = root / "tests" / "hidden" / "toy"
    (suite / "__pycache__").mkdir(parents=True)
    (suite / "test_a.py").write_text("def test_a(): pass\n")
    (suite / "test_b.py").write_text("def test_b(): pass\n")
    (suite / "model.py").write_text("RULE = 1\n")
    (suite / "__pycache__" / "model.cpython-311.pyc").write_bytes(b"\0")
    (root / "tests" / "hidden" / "conftest.py").write_text("# the shared model\n")
    (root / "tests" / "conftest.py").write_text("# the plugin\n")
    return Exercise("toy", "Toy", "toy.py", 25, hidden_tests="tests/hidden/toy")


def test_a_folder_suite_is_its_python_files_then_the_conftests_above_it(tmp_path: Path) -> None:
    exercise = _course(tmp_path)
    files = [p.relative_to(tmp_path).as_posix() for p in exercise.suite_files(tmp_path, "hidden")]
    assert files == ["tests/hidden/toy/model.py", "tests/hidden/toy/test_a.py",
                     "tests/hidden/toy/test_b.py", "tests/hidden/conftest.py",
                     "tests/conftest.py"]


def test_a_file_suite_and_a_missing_one(tmp_path: Path) -> None:
    _course(tmp_path)
    single = Exercise("toy", "Toy", "toy.py", 25, hidden_tests="tests/hidden/toy/test_a.py")
    assert [p.name for p in single.suite_files(tmp_path, "hidden")] == ["test_a.py", "conftest.py",
                                                                       "conftest.py"]
    missing = Exercise("toy", "Toy", "toy.py", 25, hidden_tests="tests/hidden/nope")
    assert missing.suite_files(tmp_path, "hidden") == []


@pytest.mark.parametrize("edited", ["tests/hidden/toy/model.py", "tests/hidden/toy/test_b.py",
                                    "tests/hidden/conftest.py"])
def test_editing_any_file_that_decides_a_grade_changes_the_fingerprint(
    tmp_path: Path, edited: str
) -> None:
    exercise = _course(tmp_path)
    before = grader_fingerprint([exercise], tmp_path)
    assert grader_fingerprint([exercise], tmp_path) == before
    (tmp_path / edited).write_text((tmp_path / edited).read_text() + "# changed\n")
    assert grader_fingerprint([exercise], tmp_path) != before


def test_the_test_modules_of_a_suite_share_one_helper_module(tmp_path: Path) -> None:
    (tmp_path / "counter.py").write_text("LOADS = []\nLOADS.append(1)\n")
    first = load_beside(str(tmp_path / "test_a.py"), "counter")
    second = load_beside(str(tmp_path / "test_b.py"), "counter")
    assert first is second and first.LOADS == [1]  # run once, whoever asks
    other = tmp_path / "other"
    other.mkdir()
    (other / "counter.py").write_text("LOADS = ['other']\n")
    assert load_beside(str(other / "test_c.py"), "counter").LOADS == ["other"]  # by folder


def test_a_missing_or_broken_helper_is_a_clear_error_and_can_be_loaded_once_mended(
    tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match="no helper module 'absent' beside"):
        load_beside(str(tmp_path / "test_a.py"), "absent")
    (tmp_path / "broken.py").write_text("raise ValueError('half written')\n")
    with pytest.raises(ValueError, match="half written"):
        load_beside(str(tmp_path / "test_a.py"), "broken")
    (tmp_path / "broken.py").write_text("MENDED = True\n")
    assert load_beside(str(tmp_path / "test_a.py"), "broken").MENDED
