"""How a batch schedules sessions: ``--jobs N`` runs N * SESSIONS_PER_JOB at once.

A student's session that ends frees its slot for the next student at once, and a
batch too small to fill the slots splits each student over two sessions (one
student on Gradescope is graded in two halves, not one long session).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from day25.course.catalogue import Exercise
from day25.course.grading import batch
from day25.course.grading.batch import SESSIONS_PER_JOB
from day25.course.grading.results import ExerciseResult
from day25.course.grading.verdict import Settings

EXERCISES = [Exercise(name, name.title(), f"{name}.py", 25,
                      hidden_tests=f"tests/hidden/test_{name}.py")
             for name in ("one", "two", "three", "four")]


class FakeSessions:
    """Stands in for run_suites: records the groups and how many ran at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.groups: list[list[str]] = []
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def __call__(self, exercises: list[Exercise], *_: Any, **__: Any) -> list[ExerciseResult]:
        with self._lock:
            self.groups.append([ex.id for ex in exercises])
            self.running += 1
            self.most = max(self.most, self.running)
        time.sleep(self.seconds)
        with self._lock:
            self.running -= 1
        return [ExerciseResult(ex.id, ex.title, 25.0) for ex in exercises]


def _batch(tmp_path: Path, students: int) -> Path:
    klass = tmp_path / "class"
    for i in range(students):
        folder = klass / f"s{i:02d}"
        folder.mkdir(parents=True)
        for ex in EXERCISES:
            (folder / ex.module).write_text(f"X = {i}\n")
    return klass


def _grade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, students: int, jobs: int,
           seconds: float) -> FakeSessions:
    fake = FakeSessions(seconds)
    monkeypatch.setattr(batch, "run_suites", fake)
    settings = Settings(course_root=tmp_path, exercise_timeout=30)
    batch.grade_class([_batch(tmp_path, students)], tmp_path / "out", EXERCISES, settings,
                          jobs=jobs, console=Console(quiet=True))
    return fake


def test_a_batch_keeps_its_slots_full_and_never_more(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _grade(tmp_path, monkeypatch, students=12, jobs=1, seconds=0.2)
    assert fake.most == SESSIONS_PER_JOB  # filled, and never one more
    assert len(fake.groups) == 12  # one session per student: the batch fills the slots
    assert all(sorted(group) == sorted(ex.id for ex in EXERCISES) for group in fake.groups)


def test_a_small_batch_splits_each_student(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    fake = _grade(tmp_path, monkeypatch, students=1, jobs=1, seconds=0.01)
    assert len(fake.groups) == 2
    assert sorted(ex for group in fake.groups for ex in group) == sorted(ex.id for ex in EXERCISES)


def test_the_help_and_the_guides_say_how_many_students_a_job_grades() -> None:
    """What an instructor reads about ``--jobs`` is the number the batch uses."""
    from typer.testing import CliRunner

    from day25.cli import app

    root = Path(__file__).resolve().parents[2]
    said = {
        "day25 grade --help": CliRunner().invoke(app, ["grade", "--help"],
                                                 env={"COLUMNS": "200"}).output,
        "the instructor guide": (root / "docs/guides/instructor.md").read_text("utf-8"),
        "docs/dev/contracts.md": (root / "docs/dev/contracts.md").read_text("utf-8"),
    }
    flat = {where: " ".join(text.split()) for where, text in said.items()}
    assert f"each grades {SESSIONS_PER_JOB} students at once" in flat["day25 grade --help"]
    assert f"each keeps {SESSIONS_PER_JOB} students'" in flat["the instructor guide"]
    assert f"`SESSIONS_PER_JOB` ({SESSIONS_PER_JOB}) sessions" in flat["docs/dev/contracts.md"]
