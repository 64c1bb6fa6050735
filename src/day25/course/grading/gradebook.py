"""A class's grades at a glance: ``gradebook.csv``, a histogram, a summary table.

Why apart from the batch: these read finished results only; an instructor can
rebuild them from the students' ``results.json`` without grading anything, and
the columns follow the catalogue, whatever exercises it lists.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rich.table import Table

from day25.course.catalogue import Exercise
from day25.course.grading.results import StudentResult

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["grade_figure", "gradebook_header", "summary_table", "write_csv", "write_gradebook",
           "write_plot"]


def gradebook_header(exercises: Sequence[Exercise]) -> list[str]:
    """``student``, the catalogue's exercise ids in order, ``total``."""
    return ["student", *(ex.id for ex in exercises), "total"]


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> Path:
    """A CSV an instructor opens in a spreadsheet: UTF-8, a header row, then ``rows``."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_gradebook(
    results: Sequence[StudentResult], path: Path, exercises: Sequence[Exercise]
) -> Path:
    """One row per student (see :func:`gradebook_header`); a missing exercise is 0."""
    rows = []
    for result in sorted(results, key=lambda r: r.student):
        points = {ex.exercise: ex.points for ex in result.exercises}
        rows.append([result.student, *(f"{points.get(ex.id, 0):g}" for ex in exercises),
                     f"{result.total:g}"])
    return write_csv(path, gradebook_header(exercises), rows)


def grade_figure(results: Sequence[StudentResult], max_total: float) -> Figure:
    """A histogram of totals; the y axis counts whole students."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(7, 4), dpi=100)  # no pyplot: no global state, no display needed
    ax = fig.add_subplot()
    totals = [r.total for r in results]
    bins = [i * max_total / 10 for i in range(11)]
    ax.hist(totals, bins=bins, color="#3b7dd8", edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"total points (of {max_total:g})")
    ax.set_ylabel("students")
    mean = sum(totals) / len(totals) if totals else 0
    ax.set_title(f"Grade distribution: {len(totals)} students, mean {mean:.1f}")
    fig.tight_layout()
    return fig


def write_plot(results: Sequence[StudentResult], path: Path, max_total: float) -> Path:
    """The histogram of :func:`grade_figure` as a PNG."""
    grade_figure(results, max_total).savefig(path)
    return path


def _notes(r: StudentResult) -> str:
    notes = len(r.notes) + sum(len(ex.notes) for ex in r.exercises)
    return ("resumed " if r.resumed else "") + (f"{notes} note(s)" if notes else "")


def summary_table(results: Sequence[StudentResult], exercises: Sequence[Exercise],
                  width: int | None = None) -> Table:
    """The class at a glance. Nothing is ever cut: when the exercise ids do not fit in
    ``width`` columns, the exercises are numbered and the caption names them
    (``1=<the first exercise id>``), and a long student name wraps."""
    rows = sorted(results, key=lambda r: r.student)
    cells = [max([len("student"), *(len(r.student) for r in rows)]),
             *(len(ex.id) for ex in exercises), len("total"),
             max([len("notes"), *(len(_notes(r)) for r in rows)])]
    numbered = width is not None and sum(cells) + 3 * len(cells) + 1 > width
    table = Table(title="Grades")
    if numbered:
        table.caption = "   ".join(f"{n}={ex.id}" for n, ex in enumerate(exercises, start=1))
        table.caption_justify = "left"
    table.add_column("student", overflow="fold")
    for n, ex in enumerate(exercises, start=1):
        table.add_column(str(n) if numbered else ex.id, justify="right", overflow="fold")
    table.add_column("total", justify="right", style="bold", overflow="fold")
    table.add_column("notes", overflow="fold")
    for r in rows:
        points = {ex.exercise: ex.points for ex in r.exercises}
        table.add_row(r.student, *(f"{points.get(ex.id, 0):g}" for ex in exercises),
                      f"{r.total:g}", _notes(r))
    return table
