"""A test the runner could not run: 0 points like a failure, but said apart from one.

Each bad case and what it gets: a test interrupted by a ``RunnerError`` (its row
carries ``runner_error``, the session exits 3), a session that cannot start, a
session that ends without a result; ``day25 check`` turns any of them into its
message and exit code 3, and a batch grades that student again on resume.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from rich.console import Console

from day25.course.catalogue import Exercise, load_catalogue
from day25.course.grading import verdict
from day25.course.grading.batch import grade_submission
from day25.course.grading.intake import Submission
from day25.course.grading.verdict import Settings, run_suite
from day25.course.sandbox import runner
from day25.course.sandbox.runner import RunnerError
from day25.course.student import cannot_run

from .conftest import COURSE

EX = Exercise("toy", "Toy", "toy.py", 25, hidden_tests="tests/hidden/test_toy.py")
BROKEN = ("from day25.course.sandbox.runner import RunnerError\n"
          "def test_runs():\n    pass\n"
          "def test_cannot_run():\n    raise RunnerError('no fork here')\n")


def _course(tmp_path: Path, suite: str, conftest: str = "") -> Settings:
    root = tmp_path / "course"
    (root / "tests" / "hidden").mkdir(parents=True)
    (root / "tests" / "conftest.py").write_text(
        'pytest_plugins = ["day25.course.harness.pytest_plugin"]\n' + conftest)
    (root / "tests" / "hidden" / "test_toy.py").write_text("import pytest\n" + suite)
    (root / "sub").mkdir()
    return Settings(root, exercise_timeout=60, test_timeout=30)


def test_a_test_that_could_not_run_is_set_apart(tmp_path: Path) -> None:
    settings = _course(tmp_path, BROKEN)
    result = run_suite(EX, settings.course_root / "sub", settings)
    assert [(t.name, t.passed) for t in result.tests] == [("test_runs", True),
                                                          ("test_cannot_run", False)]
    assert result.points == 12.5  # scored as a failure: the grade is unchanged
    assert result.runner_errors == ["no fork here"]
    assert result.notes == ["Tests of toy could not run on the grading machine (no fork here); "
                            "they score 0 until grading is run again."]
    with pytest.raises(RunnerError, match="no fork here"):
        cannot_run.ran(result)


def test_its_exit_code_must_agree(tmp_path: Path) -> None:
    """A session whose rows say "could not run" but that exits 1 is not trusted."""
    lie = ("def pytest_sessionfinish(session):\n    session.exitstatus = 1\n"
           "pytest_sessionfinish.trylast = True\n")
    settings = _course(tmp_path, BROKEN, conftest=lie)
    result = run_suite(EX, settings.course_root / "sub", settings)
    assert result.points == 0 and "ended abnormally (exit code 1)" in result.notes[0]


def test_a_session_that_cannot_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RunnerError("the grading session server stopped")

    monkeypatch.setattr(verdict, "run_session", refuse)
    settings = _course(tmp_path, "def test_a():\n    pass\n")
    result = run_suite(EX, settings.course_root / "sub", settings)
    assert result.points == 0 and not result.tests
    assert result.runner_errors == ["the grading session server stopped"]


def test_a_session_without_a_result(tmp_path: Path) -> None:
    settings = _course(tmp_path, "import os\ndef test_a():\n    os._exit(0)\n")
    result = run_suite(EX, settings.course_root / "sub", settings)
    assert result.points == 0 and "ended before writing any result" in result.notes[0]
    assert result.runner_errors[0].startswith("the test session ended (exit code 0) without a "
                                              "result")


def test_a_passing_run_has_none(tmp_path: Path) -> None:
    settings = _course(tmp_path, "def test_a():\n    pass\n")
    result = run_suite(EX, settings.course_root / "sub", settings)
    assert result.points == 25 and result.runner_errors == [] and cannot_run.ran(result)


def test_a_batch_grades_that_student_again(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise RunnerError("no session here")

    monkeypatch.setattr(verdict, "run_session", refuse)
    folder = tmp_path / "ann"
    shutil.copytree(COURSE / "solutions", folder)
    exercises = list(load_catalogue(COURSE).exercises)[:1]
    student = grade_submission(Submission("ann", folder), exercises, Settings(COURSE), salt="s")
    assert student.total == 0 and student.content_hash == ""  # "" never matches: re-graded
    assert "could not run on the grading machine (no session here)" in \
        student.exercises[0].notes[0]


def test_day25_grade_exits_3_when_a_students_tests_could_not_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The gradebook is written, but a script that goes on to publish it must be told
    that some totals are not grades yet: the batch's last line and exit code 3."""
    from typer.testing import CliRunner

    from day25.cli import app

    def refuse(*args: object, **kwargs: object) -> None:
        raise RunnerError("no session here")

    monkeypatch.setattr(verdict, "run_session", refuse)
    shutil.copytree(COURSE / "solutions", tmp_path / "ann")
    out = tmp_path / "grades"
    ran = CliRunner().invoke(app, ["grade", str(tmp_path / "ann"), "--single", "--out", str(out),
                                   "--course", str(COURSE), "--unsafe-shared-filesystem"],
                             env={"COLUMNS": "300"})
    assert ran.exit_code == 3, ran.output
    said = " ".join(ran.output.split())
    assert "ann: tests could not run here: no session here" in said
    assert said.endswith("not finished: the tests of 1 student(s) could not all run on this "
                         "machine (ann); their totals are not grades yet. Fix what their "
                         "feedback names and run the same command again: only they are "
                         "graded again.")
    assert (out / "gradebook.csv").read_text("utf-8").splitlines()[1].startswith("ann,0")


def test_the_message_and_the_exit_code() -> None:
    out = io.StringIO()
    code = cannot_run.report(Console(file=out, width=200), RunnerError("no [red]fork[/] here"))
    assert code == 3 == cannot_run.CANNOT_RUN_EXIT
    text = out.getvalue()
    assert "day25: could not run the checks on this machine: no [red]fork[/] here" in text
    assert "What to do:" in text and "no check passed or failed" in text
    assert set(cannot_run.EXIT_CODES) == {0, 1, 2, 3}


@pytest.mark.parametrize(("value", "chosen"), [("portable", "portable"),
                                               ("sandboxed", "sandboxed"),
                                               (" Portable ", "portable"),
                                               ("", "sandboxed"), ("auto", "sandboxed")])
def test_choosing_the_runner(value: str, chosen: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY25_RUNNER", value)
    assert runner.missing() == []  # this Linux has everything the sandboxed runner calls
    assert runner.chosen() == chosen


def test_a_bad_choice_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAY25_RUNNER", "fast")
    with pytest.raises(RunnerError, match="DAY25_RUNNER='fast' is not a runner"):
        runner.chosen()
    assert runner.advice() == "unset DAY25_RUNNER, or set it to auto"
