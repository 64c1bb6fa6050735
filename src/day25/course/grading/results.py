"""What grading found: per test, per exercise, per student.

Why plain dataclasses of their own: the verdict fills them, the batch keeps
them, feedback, the gradebook and ``day25 check`` read them, and ``results.json``
round-trips them (resume); none of those should need the others to know their
shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ExerciseResult", "StudentResult", "TestResult"]


@dataclass
class TestResult:
    """One graded test as the student sees it (points already scaled to the catalogue)."""

    __test__ = False  # not a pytest test class
    name: str
    exercise: str
    score: float
    max_score: float
    passed: bool
    message: str = ""


@dataclass
class ExerciseResult:
    exercise: str
    title: str
    max_points: float
    tests: list[TestResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: why some of its tests could not run on this machine (the runner failed, not the
    #: code): ``day25 check`` shows no verdict then, and a batch grades the student again
    runner_errors: list[str] = field(default_factory=list)
    #: its module imported what the exercise refuses (its ``off_limits``): no test ran
    refused_import: bool = False

    @property
    def points(self) -> float:
        """In hundredths, as each test's share is (``verdict.apportion``): a sum of floats
        such as 0.83 + 0.84 + ... is 24.999999999999996, not the 25 the shares add up to."""
        return round(min(self.max_points, sum(t.score for t in self.tests)), 2)


@dataclass
class StudentResult:
    student: str
    content_hash: str
    exercises: list[ExerciseResult]
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    resumed: bool = False

    @property
    def total(self) -> float:
        return round(sum(e.points for e in self.exercises), 2)

    @property
    def unfinished(self) -> bool:
        """Some of its tests could not run on the grading machine, or the grader failed on
        it: its total is not a grade yet (an empty ``content_hash`` is graded again)."""
        return not self.content_hash
