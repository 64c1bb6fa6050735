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


def test_the_same_code_gets_the_same_grade_at_any_jobs(tmp_path: Path) -> None:
    students = _klass(tmp_path / "class")
    alone = _grade(tmp_path / "class", tmp_path / "jobs1", jobs=1)
    crowded = _grade(tmp_path / "class", tmp_path / "jobs3", jobs=3)
    assert sorted(alone) == sorted(students)
    assert any(status == "failed" for tests in alone.values() for _n, _s, status in tests)
    for student in students:
        assert crowded[student] == alone[student], f"{student} graded differently at --jobs 3"
