"""Grade a class: students in parallel, a progress bar, the gradebook, a plot, a summary.

Why: one student's hostile or broken code must cost only that student's
points; every other grade is written. Each finished student is written to disk
at once (results.json carries a content hash), so an interrupted batch resumes
where it stopped and unchanged submissions are not graded twice.
"""

from __future__ import annotations

import csv
import hashlib
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from day25.course.grading.feedback import load_results, write_student
from day25.course.grading.intake import discover
from day25.course.grading.verdict import (
    SESSIONS_PER_JOB,
    Exercise,
    Settings,
    StudentResult,
    grade_submission,
    grader_fingerprint,
)
from day25.course.sandbox import namespaces

__all__ = ["GRADEBOOK_HEADER", "BatchReport", "grade_class", "write_gradebook", "write_plot"]

GRADEBOOK_HEADER = ["student", "priority_ordering", "once_semantics", "chat_broadcasting",
                    "notification_queueing", "total"]


@dataclass
class BatchReport:
    results: list[StudentResult]
    gradebook: Path
    plot: Path
    sandbox: str


def write_gradebook(results: Sequence[StudentResult], path: Path) -> Path:
    """``student,<the four exercise ids>,total``; a missing exercise is 0."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(GRADEBOOK_HEADER)
        for result in sorted(results, key=lambda r: r.student):
            points = {ex.exercise: ex.points for ex in result.exercises}
            writer.writerow([result.student, *(f"{points.get(ex_id, 0):g}"
                                               for ex_id in GRADEBOOK_HEADER[1:-1]),
                             f"{result.total:g}"])
    return path


def write_plot(results: Sequence[StudentResult], path: Path, max_total: float) -> Path:
    """A histogram of totals (PNG, Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4), dpi=100)
    totals = [r.total for r in results]
    bins = [i * max_total / 10 for i in range(11)]
    ax.hist(totals, bins=bins, color="#3b7dd8", edgecolor="white")
    ax.set_xlabel(f"total points (of {max_total:g})")
    ax.set_ylabel("students")
    mean = sum(totals) / len(totals) if totals else 0
    ax.set_title(f"Grade distribution: {len(totals)} students, mean {mean:.1f}")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def summary_table(results: Sequence[StudentResult], exercises: Sequence[Exercise]) -> Table:
    table = Table(title="Grades")
    table.add_column("student")
    for ex in exercises:
        table.add_column(ex.id, justify="right")
    table.add_column("total", justify="right", style="bold")
    table.add_column("notes")
    for r in sorted(results, key=lambda r: r.student):
        points = {ex.exercise: ex.points for ex in r.exercises}
        notes = len(r.notes) + sum(len(ex.notes) for ex in r.exercises)
        table.add_row(r.student, *(f"{points.get(ex.id, 0):g}" for ex in exercises),
                      f"{r.total:g}", ("resumed " if r.resumed else "") +
                      (f"{notes} note(s)" if notes else ""))
    return table


def grade_class(
    paths: Sequence[Path],
    out: Path,
    exercises: list[Exercise],
    settings: Settings,
    *,
    jobs: int = 1,
    single: bool = False,
    console: Console | None = None,
) -> BatchReport:
    """Grade every submission under ``paths`` into ``out``; see the module docstring."""
    console = console or Console()
    subs = discover(paths, [ex.module for ex in exercises], single=single)
    if not subs:
        raise ValueError("no submissions found in " + ", ".join(map(str, paths)))
    out.mkdir(parents=True, exist_ok=True)
    sandbox = namespaces.describe()
    console.print(sandbox, style="yellow" if "ONLY" in sandbox or "OFF" in sandbox else "green")
    salt = hashlib.sha256(
        (grader_fingerprint(exercises, settings.course_root) + namespaces.mode()).encode()
    ).hexdigest()
    results: list[StudentResult] = []
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    # --jobs N: N * SESSIONS_PER_JOB sessions run at once, one student each, taken in
    # order as slots free up; a batch too small to fill them splits each student
    total = max(1, jobs) * SESSIONS_PER_JOB
    settings = replace(settings, sessions=max(1, min(settings.sessions, total // len(subs))))
    slots = threading.BoundedSemaphore(total)
    with Progress(*columns, console=console, transient=False) as progress, \
            ThreadPoolExecutor(max_workers=total) as pool:
        task = progress.add_task("", total=len(subs))
        futures = {
            pool.submit(grade_submission, sub, exercises, settings, salt=salt, slots=slots,
                        previous=load_results(out / sub.student / "results.json")): sub
            for sub in subs
        }
        for future in as_completed(futures):
            sub = futures[future]
            try:
                result = future.result()
            except Exception as exc:  # the grader's own bug: say so, keep the batch going
                result = StudentResult(sub.student, "", [], notes=[
                    f"The grader failed on this submission ({type(exc).__name__}: {exc}); "
                    "ask your instructor to re-run grading."])
            if not result.resumed:
                write_student(result, out, sandbox)
            results.append(result)
            progress.update(task, advance=1, description=f"{sub.student}: {result.total:g}")
    book = write_gradebook(results, out / "gradebook.csv")
    plot = write_plot(results, out / "grades.png", float(sum(ex.points for ex in exercises)))
    console.print(summary_table(results, exercises))
    console.print(f"gradebook: {book}\nplot: {plot}\nfeedback: {out}{os.sep}<student>/feedback.md")
    return BatchReport(results, book, plot, sandbox)
