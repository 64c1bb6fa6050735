"""The ladder's steps: every solution passes its quick check, every stub fails it with a
sentence, and the runner survives what students write (loops, crashes, off-limits imports)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from day25.course.catalogue import Exercise, load_catalogue
from day25.course.student.steps import run_step

ROOT = Path(__file__).resolve().parents[2]
STEPS = load_catalogue(ROOT).steps


def test_the_ladder_has_a_step_for_every_idea_the_issue_names() -> None:
    assert len(STEPS) >= 8
    assert all(s.points == 0 for s in STEPS), "steps are ungraded practice"
    assert [s.order for s in STEPS] == list(range(1, len(STEPS) + 1))
    projects = {e.id for e in load_catalogue(ROOT).exercises}
    assert all(s.leads_to in projects for s in STEPS)
    for step in STEPS:
        assert (ROOT / "exercises" / step.module).is_file(), step.module
        assert (ROOT / "solutions" / step.module).is_file(), step.module
        assert (ROOT / step.tests("public")).is_file(), step.public_tests
        assert 2 <= len(step.hints) <= 4, step.id


@pytest.mark.parametrize("step", STEPS, ids=lambda s: s.id)
def test_the_solution_passes_and_the_stub_fails_with_a_sentence(step: Exercise) -> None:
    solved = run_step(step, ROOT / "solutions", ROOT)
    assert solved.passed, f"{step.id}: {solved.message}"
    stub = run_step(step, ROOT / "exercises", ROOT)
    assert not stub.passed
    assert stub.message and "Traceback" not in stub.message, stub.message


def _step(step_id: str) -> Exercise:
    return next(s for s in STEPS if s.id == step_id)


def _write(tmp_path: Path, step: Exercise, source: str) -> Path:
    folder = tmp_path / "exercises"
    (folder / step.module).parent.mkdir(parents=True, exist_ok=True)
    (folder / step.module).write_text(source, encoding="utf-8")
    return folder


def test_a_wrong_answer_gets_the_checks_message(tmp_path: Path) -> None:
    step = _step("ties")
    wrong = ("def run_order(regs):\n"
             "    return [n for n, p in sorted(regs, key=lambda r: (-r[1], r[0]))]\n")
    result = run_step(step, _write(tmp_path, step, wrong), ROOT)
    assert not result.passed and "not by name" in result.message


def test_an_endless_loop_costs_the_child_not_the_check(tmp_path: Path) -> None:
    step = _step("ties")
    folder = _write(tmp_path, step, "def run_order(regs):\n    while True:\n        pass\n")
    result = run_step(step, folder, ROOT, timeout=3)
    assert not result.passed and "did not finish within 3 s" in result.message
    # and where, as a traceback shows it (before, the student had to guess)
    assert re.search(r"\nYour code was last seen here \(most recent call last\):\n"
                     r'  File "01_ties.py", line [23], in run_order\n'
                     r"    (while True:|pass)$", result.message), result.message


def test_a_crash_names_the_line(tmp_path: Path) -> None:
    step = _step("ties")
    folder = _write(tmp_path, step, "def run_order(regs):\n    return regs[99]\n")
    result = run_step(step, folder, ROOT)
    assert not result.passed and "IndexError" in result.message and "line 2" in result.message


def test_the_realtime_helpers_are_off_limits_in_a_step_too(tmp_path: Path) -> None:
    step = _step("presence")
    source = "from day25.realtime import PresenceTracker as Presence\n"
    result = run_step(step, _write(tmp_path, step, source), ROOT)
    assert not result.passed and "day25.realtime is off limits" in result.message


def test_a_missing_step_file_says_where_to_get_it(tmp_path: Path) -> None:
    result = run_step(_step("cap"), tmp_path, ROOT)
    assert not result.passed and "steps/09_cap.py" in result.message
    shutil.rmtree(tmp_path, ignore_errors=True)
