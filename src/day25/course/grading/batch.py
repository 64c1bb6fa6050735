"""Grade a class: each student's modules taken, graded in sessions, written as they finish.

Why: one student's hostile or broken code must cost only that student's
points; every other grade is written. Each finished student is written to disk
at once (``results.json`` carries a content hash), so an interrupted batch
resumes where it stopped and unchanged submissions are not graded twice.
Students run in parallel, a bounded number of sessions at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from day25.course.catalogue import Exercise
from day25.course.grading.feedback import load_results, write_student
from day25.course.grading.gradebook import summary_table, write_gradebook, write_plot
from day25.course.grading.intake import (
    LATE_NOTE,
    Submission,
    content_hash,
    take_modules,
    write_copy,
)
from day25.course.grading.results import ExerciseResult, StudentResult
from day25.course.grading.review_report import ReviewReport, annotate_results, review_class
from day25.course.grading.sessions import stop_all
from day25.course.grading.students import discover
from day25.course.grading.verdict import Settings, run_suites
from day25.course.sandbox import namespaces

__all__ = ["SESSIONS_PER_JOB", "BatchReport", "grade_class", "grade_submission",
           "grader_fingerprint"]

@dataclass
class BatchReport:
    results: list[StudentResult]
    gradebook: Path
    plot: Path
    sandbox: str
    review: ReviewReport

    @property
    def unfinished(self) -> list[str]:
        """The students whose tests could not all run here: ``day25 grade`` exits 3."""
        return [r.student for r in self.results if r.unfinished]


#: sessions a batch runs at once per ``--jobs`` worker: a session waits on the app it
#: tests much of the time (settling, faults, the session models), so a core needs several
#: to stay busy; docs/benchmarks/grading-speed.md has the measurements that chose four
SESSIONS_PER_JOB = 4


def grader_fingerprint(exercises: list[Exercise], root: Path) -> str:
    """Changes whenever the graded suites (their helpers and conftests too) or the
    catalogue change, so resume re-grades."""
    parts = []
    for ex in exercises:
        parts.append(f"{ex.id}:{ex.points}")
        for file in ex.suite_files(root, "hidden"):
            text = file.read_text(encoding="utf-8")
            parts.append(f"{file.relative_to(root).as_posix()}:{text}")
    return "\n".join(parts)


def _missing(exercise: Exercise, notes: list[str]) -> ExerciseResult:
    result = ExerciseResult(exercise.id, exercise.title, float(exercise.points))
    result.notes.extend(notes)
    result.notes.append(f"{exercise.id} was not graded; it scores 0.")
    return result


def _starter_file(exercise: Exercise, text: str, root: Path) -> list[str]:
    """A note when ``text`` is the exercise's stub as handed out: its failures are the
    stub's, and one sentence says so before them (an instructor's test)."""
    try:
        stub = (root / "exercises" / exercise.module).read_text(encoding="utf-8")
    except (OSError, ValueError):
        return []
    if text.replace("\r\n", "\n").strip() != stub.replace("\r\n", "\n").strip():
        return []
    return [f"{exercise.module} is the starter file as it was handed out, unchanged: none "
            "of its functions is written yet, so every test below fails."]


def grade_submission(
    sub: Submission, exercises: list[Exercise], settings: Settings, *, salt: str,
    previous: StudentResult | None = None, slots: threading.Semaphore | None = None,
) -> StudentResult:
    """Grade every exercise of one student; ``previous`` is reused if nothing changed.

    ``slots``: shared by a batch, it bounds the sessions running at once, so a
    student's session that finishes early frees its slot for the next student's
    instead of idling until the student's slower session is done.
    """
    started = time.monotonic()
    intake = take_modules(sub, [ex.module for ex in exercises])
    digest = content_hash(intake, salt)
    if previous is not None and previous.content_hash == digest:
        previous.resumed = True
        return previous
    student = StudentResult(sub.student, digest, [])
    student.notes.extend(intake.problems.get("", []))
    with tempfile.TemporaryDirectory(prefix="day25-sub-") as tmp:  # 0700: the grader's only
        copy = write_copy(intake, Path(tmp) / "submission")
        present = [ex for ex in exercises if ex.module in intake.modules]
        groups = [present[i::max(1, settings.sessions)] for i in range(max(1, settings.sessions))]
        groups = [group for group in groups if group]
        limit = min(settings.submission_timeout, settings.exercise_timeout * max(1, len(present)))
        graded: dict[str, ExerciseResult] = {}

        def run(group: list[Exercise]) -> list[ExerciseResult]:
            with slots or contextlib.nullcontext():
                return run_suites(group, copy, settings, timeout=limit)

        with ThreadPoolExecutor(max_workers=max(1, len(groups))) as pool:
            for done in pool.map(run, groups):
                graded.update((result.exercise, result) for result in done)
        for ex in exercises:
            if ex.id in graded:
                student.exercises.append(graded[ex.id])
                graded[ex.id].notes[:0] = [*_starter_file(ex, intake.modules[ex.module],
                                                          settings.course_root),
                                           *intake.notes.get(ex.module, [])]
            else:
                student.exercises.append(_missing(ex, [*intake.notes.get(ex.module, []),
                                                       *intake.problems.get(ex.module, [])]))
    student.seconds = time.monotonic() - started
    if any(ex.runner_errors for ex in student.exercises):
        student.content_hash = ""  # graded again on resume: the runner failed, not the code
    return student


def grade_class(
    paths: Sequence[Path],
    out: Path,
    exercises: list[Exercise],
    settings: Settings,
    *,
    jobs: int = 1,
    single: bool = False,
    unsafe_shared_filesystem: bool = False,
    console: Console | None = None,
    review_modules: Sequence[str] = (),
) -> BatchReport:
    """Grade every submission under ``paths`` into ``out``; see the module docstring.

    ``review_modules``: the catalogue's ``[review] modules``, for ``OUT/review.csv``.
    Without namespaces a submission can read every file the grader can: its
    classmates' work among them. A batch of more than one student is refused
    then, and so is any batch of the sandboxed runner as root, where a submission
    would run as root (:func:`~day25.course.sandbox.namespaces.unsafe_here`), unless
    ``unsafe_shared_filesystem`` says the instructor knows.
    """
    console = console or Console()
    told: list[str] = []
    subs = discover(paths, [ex.module for ex in exercises], single=single, told=told)
    if not subs:
        raise ValueError("no submissions found in " + ", ".join(map(str, paths)))
    sandbox = namespaces.describe()
    console.print(sandbox, style="green" if namespaces.hardened() else "yellow")
    for line in told:
        console.print(f"warning: {line}", style="yellow", markup=False)
    for sub in subs:
        if sub.renamed:
            console.print(f"warning: {sub.renamed}", style="yellow", markup=False)
    if not unsafe_shared_filesystem:
        refusal = namespaces.unsafe_here(len(subs))
        if refusal:
            raise ValueError(refusal)
    out.mkdir(parents=True, exist_ok=True)
    salt = hashlib.sha256(
        (grader_fingerprint(exercises, settings.course_root) + namespaces.mode()
         + ("stop-at-first-failure" if settings.stop_at_first_failure else "")).encode()
    ).hexdigest()
    results: list[StudentResult] = []
    columns = (TextColumn("grading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.description}"))
    # --jobs N: N * SESSIONS_PER_JOB sessions run at once, one student each, taken in
    # order as slots free up; a batch too small to fill them splits each student
    total = max(1, jobs) * SESSIONS_PER_JOB
    settings = replace(settings, sessions=max(1, min(settings.sessions, total // len(subs))))
    slots = threading.BoundedSemaphore(total)
    try:
        _grade_all(subs, exercises, settings, out, sandbox, salt, slots, total, columns,
                   results, console)
    except KeyboardInterrupt:
        console.print(f"interrupted: {len(results)} of {len(subs)} students were done, and "
                      f"their feedback is in {out}; gradebook.csv is written only when a run "
                      "ends. Run the same command again to resume: the graded students are "
                      "reused, not graded again.", style="yellow", markup=False)
        raise
    with _writing(out):
        book = write_gradebook(results, out / "gradebook.csv", exercises)
        plot = write_plot(results, out / "grades.png", float(sum(ex.points for ex in exercises)))
        review = review_class(paths, out, exercises, review_modules, single=single)
        annotate_results(out, review)
    console.print(summary_table(results, exercises, console.width))
    console.print(f"gradebook: {book}\nplot: {plot}\nfeedback: {out}{os.sep}<student>/feedback.md")
    console.print(review.summary(), markup=False, highlight=False)
    _say_late_students(results, console)
    _say_students_without_modules(results, exercises, console)
    _say_earlier_students(out, {r.student for r in results}, console)
    report = BatchReport(results, book, plot, sandbox, review)
    _say_unfinished_students(report.unfinished, console)
    return report


@contextlib.contextmanager
def _writing(out: Path) -> Iterator[None]:
    """The class's outputs, written after every student was graded: a file another program
    holds (a spreadsheet locks gradebook.csv on Windows) is a sentence, not a traceback."""
    try:
        yield
    except OSError as exc:
        where = exc.filename or out
        raise ValueError(
            f"could not write {where}: {exc.strerror or exc}. Close any program that has it "
            "open (a spreadsheet locks gradebook.csv on Windows) and run the same command "
            "again: the graded students are reused, not graded again.") from exc


def _say_late_students(results: list[StudentResult], console: Console) -> None:
    """Name the students whose LMS marked a file late: their feedback and results.json say
    so beside the module, the grade and the gradebook's columns do not (a late policy is
    the instructor's to apply)."""
    late = sorted(r.student for r in results
                  if any(note.startswith(LATE_NOTE) for ex in r.exercises for note in ex.notes))
    if late:
        console.print(f"late: {len(late)} student(s) handed in a file the LMS marked late "
                      f"({', '.join(late)}); their grades are not changed, and their "
                      "feedback names the file.", style="yellow", markup=False)


def _say_students_without_modules(results: list[StudentResult], exercises: list[Exercise],
                                  console: Console) -> None:
    """Name the students in whose submission no exercise module was found at all: a 0
    that is most often a layout (files too deep, or renamed), which their feedback
    explains, and which a line among the grades would hide (an instructor's test)."""
    modules = {ex.id: ex.module for ex in exercises}
    empty = sorted(r.student for r in results if r.exercises and all(
        any(note.startswith(f"{modules.get(e.exercise)} was not found") for note in e.notes)
        for e in r.exercises))
    if empty:
        console.print(f"warning: no exercise module was found in the submission of "
                      f"{len(empty)} student(s) ({', '.join(empty)}): each scores 0, and "
                      "their feedback says what the submission holds.",
                      style="yellow", markup=False)


def _say_earlier_students(out: Path, graded: set[str], console: Console) -> None:
    """Name the students an earlier run graded into ``out`` and this one did not: their
    feedback is there, but the gradebook is this run's (grading a class in parts)."""
    earlier = sorted(d.name for d in out.iterdir()
                     if d.name not in graded and (d / "results.json").is_file())
    if earlier:
        console.print(
            f"warning: {out} also holds the feedback of {len(earlier)} student(s) this run did "
            f"not grade ({_first_five(earlier)}): gradebook.csv, grades.png and review.csv "
            f"list this run's {len(graded)} only. For one gradebook of the whole class, grade "
            "the whole class folder into this --out: unchanged students are reused, not graded "
            "again.",
            style="yellow", markup=False)


def _say_unfinished_students(unfinished: list[str], console: Console) -> None:
    """Last, so a script's log ends with it: the run's exit code (3) says the same."""
    if unfinished:
        console.print(
            f"not finished: the tests of {len(unfinished)} student(s) could not all run on "
            f"this machine ({_first_five(unfinished)}); their totals are not grades yet. Fix "
            "what their feedback names and run the same command again: only they are graded "
            "again.",
            style="red", markup=False)


def _first_five(students: list[str]) -> str:
    return ", ".join(students[:5]) + (", ..." if len(students) > 5 else "")


def _landing(futures: Iterable[Future[StudentResult]]) -> Iterator[Future[StudentResult]]:
    """Each future as it completes, as ``as_completed`` gives them, but waking every half
    second: on Windows before Python 3.14 a lock's wait cannot be interrupted (CPython
    gh-74157), so Ctrl+C waited for the next student to finish, up to 10 minutes."""
    pending = set(futures)
    while pending:
        done, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        yield from done


def _grade_all(subs: list[Submission], exercises: list[Exercise], settings: Settings,
               out: Path, sandbox: str, salt: str, slots: threading.BoundedSemaphore,
               total: int, columns: tuple[Any, ...], results: list[StudentResult],
               console: Console) -> None:
    """Grade ``subs``, appending each result to ``results`` as it lands."""
    with Progress(*columns, console=console, transient=False) as progress, \
            ThreadPoolExecutor(max_workers=total) as pool:
        try:
            task = progress.add_task("", total=len(subs))
            futures = {
                pool.submit(grade_submission, sub, exercises, settings, salt=salt, slots=slots,
                            previous=load_results(out / sub.student / "results.json")): sub
                for sub in subs
            }
            for future in _landing(futures):
                sub = futures[future]
                try:
                    result = future.result()
                except Exception as exc:  # the grader's own bug: say so, keep the batch going
                    result = StudentResult(sub.student, "", [], notes=[
                        f"The grader failed on this submission ({type(exc).__name__}: {exc}); "
                        "ask your instructor to re-run grading."])
                if not result.resumed:
                    try:
                        write_student(result, out, sandbox)
                    except OSError as exc:  # this student's folder only: the batch goes on
                        progress.console.print(
                            f"{sub.student}: could not write the feedback in {out}: {exc}; "
                            "the grade is in the gradebook", style="yellow", markup=False)
                for why in {e.splitlines()[0] for ex in result.exercises for e in ex.runner_errors}:
                    progress.console.print(f"{sub.student}: tests could not run here: {why}",
                                           style="yellow", markup=False)
                results.append(result)
                progress.update(task, advance=1, description=f"{sub.student}: {result.total:g}")
                if not console.is_terminal:  # a log or CI has no live bar: a line per student
                    done = "reused (unchanged)" if result.resumed else "graded"
                    progress.console.print(f"{done} {len(results)}/{len(subs)}: {sub.student}: "
                                           f"{result.total:g}", markup=False, highlight=False)
        except KeyboardInterrupt:
            stop_all()  # the sessions are out of Ctrl-C's reach: end them, start no other
            pool.shutdown(wait=False, cancel_futures=True)
            raise

