"""The same code gets the same grade, test by test, at any ``--jobs``.

A class of reference solutions and mutants of every exercise (the WebSocket
ones are the timing-sensitive ones) is graded twice: one session at a time,
then as many side by side as ``--jobs 3`` runs on two cores, where every
session competes for the CPU. Each test's points and status must agree.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from day25.course.catalogue import load_catalogue
from day25.course.grading.mutants import load_mutants

COURSE = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.xdist_group("determinism"), pytest.mark.timeout(900)]


def _klass(into: Path) -> list[str]:
    """Per exercise: the solution and its first two mutants, each a student of its own."""
    students = []
    for ex in load_catalogue(COURSE).exercises:
        solution = COURSE / "solutions" / ex.module
        sources = [solution.read_text(encoding="utf-8")]
        sources += [m.apply(sources[0]) for m in load_mutants(COURSE, ex.id)[:2]]
        for n, source in enumerate(sources):
            student = f"{ex.id}_{n}"
            (into / student).mkdir(parents=True)
            (into / student / ex.module).write_text(source, encoding="utf-8")
            students.append(student)
    return students


def _grade(klass: Path, out: Path, jobs: int) -> dict[str, list[tuple[str, float, str]]]:
    proc = subprocess.run([sys.executable, "-m", "day25.cli", "grade", str(klass),
                           "--out", str(out), "--jobs", str(jobs), "--course", str(COURSE)],
                          capture_output=True, text=True, timeout=800, cwd=COURSE)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    graded = {}
    for results in sorted(out.glob("*/results.json")):
        tests = json.loads(results.read_text(encoding="utf-8"))["tests"]
        graded[results.parent.name] = [(t["name"], t["score"], t["status"]) for t in tests]
    return graded


def _said(out: Path, student: str, test: str) -> str:
    """What ``test``'s verdict told ``student``: the reason a grade differed, when one does."""
    tests = json.loads((out / student / "results.json").read_text(encoding="utf-8"))["tests"]
    return next((t.get("output", "") for t in tests if t["name"] == test), "(no such test)")


def test_the_same_code_gets_the_same_grade_at_any_jobs(tmp_path: Path) -> None:
    students = _klass(tmp_path / "class")
    alone = _grade(tmp_path / "class", tmp_path / "jobs1", jobs=1)
    crowded = _grade(tmp_path / "class", tmp_path / "jobs3", jobs=3)
    assert sorted(alone) == sorted(students)
    assert any(status == "failed" for tests in alone.values() for _n, _s, status in tests)
    for student in students:
        differ = [a[0] for a, c in zip(alone[student], crowded[student], strict=False) if a != c]
        assert crowded[student] == alone[student], (
            f"{student} graded differently at --jobs 3; what each run said:\n" + "\n".join(
                f"{test}\n  alone: {_said(tmp_path / 'jobs1', student, test)[:1500]}\n"
                f"  crowded: {_said(tmp_path / 'jobs3', student, test)[:1500]}"
                for test in differ))


def test_a_students_paths_are_their_file_names_and_a_re_run_says_the_same(
        tmp_path: Path) -> None:
    """The audit: feedback quoted the grader's random copy of the module
    (``/tmp/day25-verdict-3oanwmya/...``), so two runs of the same code differed. The
    student reads their file's name, and byte for byte the same feedback each time."""
    klass = tmp_path / "class" / "amy"
    klass.mkdir(parents=True)
    once = (COURSE / "solutions" / "once_semantics.py").read_text(encoding="utf-8")
    (klass / "once_semantics.py").write_text(once.replace(
        "    if handler is None:\n",
        "    raise RuntimeError(f'cannot find {__file__}')\n    if handler is None:\n", 1),
        encoding="utf-8")
    (tmp_path / "class" / "bob").mkdir()  # a class: a folder of students
    (tmp_path / "class" / "bob" / "once_semantics.py").write_text(once, encoding="utf-8")
    emitter = (COURSE / "solutions" / "priority_ordering.py").read_text(encoding="utf-8")
    (klass / "priority_ordering.py").write_text(emitter.replace(
        "from __future__ import annotations\n",
        "from __future__ import annotations\nimport os\nprint('I am', __file__, flush=True)\n"
        "os._exit(3)\n", 1), encoding="utf-8")
    runs = []
    for out in ("run1", "run2"):
        _grade(tmp_path / "class", tmp_path / out, jobs=1)
        feedback = (tmp_path / out / "amy" / "feedback.md").read_text(encoding="utf-8")
        outputs = [t["output"] for t in json.loads(
            (tmp_path / out / "amy" / "results.json").read_text(encoding="utf-8"))["tests"]]
        runs.append((feedback, outputs))
    feedback = runs[0][0]
    assert "cannot find once_semantics.py" in feedback, feedback
    assert "I am priority_ordering.py" in feedback, feedback
    for internal in ("/tmp/", "day25-verdict", "d25z-", "/code/"):
        assert internal not in feedback, feedback
    assert runs[1] == runs[0]


def test_a_backlog_in_the_wrong_order_costs_the_order_tests_the_same_every_run(
        tmp_path: Path) -> None:
    """The grading regression run: a backlog sorted by a random id scored 5.65 to 10.49 of 25
    from run to run, as five tests of other rules (acks, limits, tabs, restarts) passed or
    failed by the order its two or three frames came in. A backlog in the wrong order, at
    random or reversed, now fails the backlog's order tests and the model's random
    sessions (several rules at once), and nothing else, in every run."""
    solution = (COURSE / "solutions" / "notification_queueing.py").read_text(encoding="utf-8")
    pending = '"WHERE user = ? ORDER BY seq", (user,)'
    assert solution.count(pending) == 1
    for student, order in (("reversed", "seq DESC"), ("random", "random()")):
        (tmp_path / "class" / student).mkdir(parents=True)
        (tmp_path / "class" / student / "notification_queueing.py").write_text(
            solution.replace(pending, pending.replace("seq", order, 1)), encoding="utf-8")
    order_tests = {"test_backlog_in_seq_order_then_backlog_end_then_live_never_twice",
                   "test_a_backlog_of_a_dozen_comes_in_numeric_seq_order",
                   "test_backlog_in_seq_order_across_settings",
                   "test_random_sessions_match_the_model"}
    for run in ("first", "second"):
        graded = _grade(tmp_path / "class", tmp_path / run, jobs=2)
        for student in ("reversed", "random"):
            failed = {name.split(": ", 1)[1] for name, _score, status in graded[student]
                      if status == "failed" and name.startswith("notification_queueing: ")}
            assert failed == order_tests, (run, student, sorted(failed ^ order_tests))
