"""A class's review: ``OUT/review.csv``, and the flags where Gradescope shows them.

Why apart from :mod:`~day25.course.grading.review`: that module says what an
honest solution does not need, for one module's source; this one walks a class's
submissions, writes the CSV an instructor reads, and adds each flagged student's
findings to their ``results.json`` as an entry only instructors see (on
Gradescope each student is graded alone, so no class-wide file reaches anyone).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from day25.course.catalogue import Exercise
from day25.course.grading.gradebook import write_csv
from day25.course.grading.intake import take_modules
from day25.course.grading.review import review_source
from day25.course.grading.students import discover

__all__ = ["CSV_NAME", "REVIEW_TEST", "Finding", "ReviewReport", "annotate_results",
           "review_class"]

CSV_NAME = "review.csv"
REVIEW_TEST = "review"  # the number of the instructors-only entry in results.json
CSV_HEADER = ["student", "exercise", "line", "rule", "what"]


@dataclass(frozen=True)
class Finding:
    """One use to read: where, which rule, and what exactly."""

    student: str
    exercise: str
    line: int
    rule: str
    what: str

    def row(self) -> list[str]:
        return [self.student, self.exercise, str(self.line), self.rule, self.what]


@dataclass
class ReviewReport:
    """Every finding of a class, and the CSV they were written to."""

    findings: list[Finding] = field(default_factory=list)
    csv: Path | None = None

    def students(self) -> list[str]:
        return sorted({f.student for f in self.findings})

    def summary(self) -> str:
        """The console's lines: whom to read (or that nobody needs it), and the CSV."""
        students = self.students()
        if not students:
            head = "review: no submission reaches beyond what the exercises need"
        else:
            shown = ", ".join(students[:5])
            if len(students) > 5:
                shown += f" and {len(students) - 5} more"
            head = (f"review: {len(students)} submission(s) reach beyond what the exercises "
                    f"need; read them before trusting their grade: {shown}")
        return f"{head}\nreview.csv: {self.csv}"


def _findings(student: str, ex: Exercise, source: str, allowed: Sequence[str],
              public: Sequence[str]) -> Iterator[Finding]:
    for line, rule, what in review_source(source, allowed, public):
        yield Finding(student, ex.id, line, rule, what)


def annotate_results(out: Path, report: ReviewReport) -> None:
    """Add each flagged student's findings to ``OUT/<student>/results.json`` as a test only
    instructors see (Gradescope's ``"visibility": "hidden"``, 0 points): on Gradescope,
    where each student is graded alone, that is where an instructor meets the flag."""
    for student in report.students():
        path = out / student / "results.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # no results to annotate: the gradebook already says why
        lines = [f"{f.exercise}.py line {f.line} [{f.rule}]: {f.what}"
                 for f in report.findings if f.student == student]
        tests = [t for t in data.get("tests", []) if t.get("number") != REVIEW_TEST]
        tests.append({"name": "Review: code that reaches past an honest solution (read it)",
                      "number": REVIEW_TEST, "score": 0, "max_score": 0, "status": "passed",
                      "output": "\n".join(lines), "output_format": "text",
                      "visibility": "hidden"})
        data["tests"] = tests
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")


def review_class(submissions: Sequence[Path], out: Path, exercises: Sequence[Exercise],
                 allowed: Sequence[str], *, single: bool = False) -> ReviewReport:
    """Review every exercise module of every submission; write ``OUT/review.csv``."""
    import day25

    public = list(day25.__all__)
    names = [ex.module for ex in exercises]
    students = discover(submissions, names, single=single)
    if not students:
        raise ValueError("no submissions found in " + ", ".join(map(str, submissions)))
    report = ReviewReport()
    for sub in students:
        modules = take_modules(sub, names).modules
        for ex in exercises:
            if ex.module in modules:
                report.findings += _findings(sub.student, ex, modules[ex.module], allowed,
                                             public)
    report.findings.sort(key=lambda f: (f.student, f.exercise, f.line, f.rule))
    out.mkdir(parents=True, exist_ok=True)
    report.csv = out / CSV_NAME
    write_csv(report.csv, CSV_HEADER, (f.row() for f in report.findings))
    return report
