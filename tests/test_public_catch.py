"""``benchmarks/public_catch.py``: how many kept bugs the public checks tell a student of.

The command grades hundreds of files (a benchmark, not a test). These tests hold its
parts to what it claims: a file the checks could not run on is neither caught nor
passed, and on real files a kept bug fails a public check while a kept correct file
passes them all, through the same pipeline as ``day25 check``.
"""

from __future__ import annotations

from pathlib import Path

from tests.commands import load_command

from day25.course.catalogue import load_catalogue
from day25.course.grading.results import ExerciseResult, TestResult

catch = load_command("public_catch")
COURSE = Path(__file__).resolve().parents[1]


def result(*passed: bool, runner_errors: tuple[str, ...] = ()) -> ExerciseResult:
    tests = [TestResult(f"t{i}", "ex", 1.0 if ok else 0.0, 1.0, ok)
             for i, ok in enumerate(passed)]
    return ExerciseResult("ex", "Ex", 25.0, tests, runner_errors=list(runner_errors))


def test_a_run_that_could_not_check_counts_neither_way() -> None:
    assert catch.verdict(result()) == "error"
    assert catch.verdict(result(True, runner_errors=("no sandbox",))) == "error"
    assert catch.verdict(result(True, True)) == "pass"
    assert catch.verdict(result(True, False, True)) == "fail"
    assert catch.first_failure(result(True, False, False)) == "t1"


def test_a_kept_bug_fails_a_public_check_and_a_kept_correct_file_passes() -> None:
    exercises = [ex for ex in load_catalogue(COURSE).exercises if ex.id == "once_semantics"]
    found = [path for ex_id, _, path in catch.variants(None) if ex_id == "once_semantics"]
    bug = next(p for p in found if p.name.startswith("bug_02_no_fired_guard"))
    ok = next(p for p in found if p.name.startswith("ok_01"))
    settings = catch.Settings(COURSE, stop_at_first_failure=True)
    said = catch.check_student(exercises, {"once_semantics": bug}, settings)
    assert said["once_semantics"][0] == "fail", said
    assert said["once_semantics"][1], "the first failing check is named"
    assert catch.check_student(exercises, {"once_semantics": ok}, settings) == {
        "once_semantics": ("pass", "")}
