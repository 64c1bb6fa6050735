"""``day25 check``: the ladder, rustlings-style, and the public checks of one item.

Why this shape: a student should always know the one next thing to do.
Without an id, ``day25 check`` walks the catalogue's ladder in order (the
steps, then the projects), stops at the first item that is not done, shows
its failing message and the progress so far. With an id it checks that item
alone and lists every test.

A project's public suite runs through the grader's own pipeline (modules
copied out, the suite run in a session, the verdict read from a private
file), so the check and the grade never disagree about the same code; a step
runs its quick check in a child process (:mod:`~day25.course.student.steps`).
Hints are never shown here: a student asks for them (``day25 hint``).
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from day25.course.catalogue import Catalogue, Exercise
from day25.course.grading.feedback import clean_message, shortened
from day25.course.grading.intake import Submission, take_modules, write_copy
from day25.course.grading.results import ExerciseResult
from day25.course.grading.review import student_note
from day25.course.grading.verdict import Settings, run_suite
from day25.course.protocol import HUNG_BEFORE, OUTPUT_MARKER
from day25.course.sandbox import namespaces
from day25.course.student import cannot_run
from day25.course.student.steps import StepResult, run_step
from day25.course.student.workspace import exercise_page

__all__ = ["HIDDEN_NOTICE", "check", "check_project", "watch"]

HIDDEN_NOTICE = ("Note: these are the PUBLIC checks only. At grading, hidden tests also run "
                 "and check more, so passing here does not guarantee full points.")
#: a failure's "raised NotImplementedError: what (at file line N": shown in full once per
#: place, then named (an untouched stub fails every check there: one page, not fifteen)
REFUSED_WHERE = re.compile(r"^The WebSocket refused: .*$", re.M)  # harness.conversation
UNWRITTEN = re.compile(r"NotImplementedError\b[^\n]*?\(at ([^\n]*? line \d+)")
#: how often ``--watch``'s file watcher wakes when nothing was saved (milliseconds)
WAKE_MS = 250
STEPS_NOTICE = ("Steps are optional practice (0 points): skip ahead with `day25 check <id>`, "
                "e.g. `day25 check {project}`.")


def check_project(ex: Exercise, settings: Settings, path: Path,
                  review_modules: Sequence[str] = ()) -> ExerciseResult:
    """Run ``ex``'s public suite on the student's module in ``path``, as the grader would
    (:class:`~day25.course.sandbox.runner.RunnerError` when the checks could not run).
    With ``review_modules`` (the catalogue's), a module the grader's review would list
    gets a note saying so."""
    settings = replace(settings, stop_at_first_hang=True)  # feedback in seconds, not minutes
    intake = take_modules(Submission("you", path), [ex.module])
    if ex.module not in intake.modules:
        return ExerciseResult(ex.id, ex.title, float(ex.points),
                              notes=intake.problems.get(ex.module, []))
    with tempfile.TemporaryDirectory(prefix="day25-check-") as tmp:
        Path(tmp).chmod(0o755)
        copy = write_copy(intake, Path(tmp) / "submission")
        result = cannot_run.ran(run_suite(ex, copy, settings, suite="public"))  # no FAIL then
    result.notes[:0] = intake.notes.get(ex.module, [])  # a file name in other case
    if result.refused_import:  # "costs no point" beside a refusal that costs them all
        return result
    if review_modules and (note := student_note(intake.modules[ex.module], review_modules)):
        result.notes.append(note)
    return result


def _cause(message: str) -> str:
    """A failure's message without what differs between checks failing for one cause: the
    output of the student's code (times in its log), and which WebSocket was refused."""
    said = message.partition(f"\n{OUTPUT_MARKER}")[0]
    return REFUSED_WHERE.sub("", said)


def _passed(result: ExerciseResult) -> bool:
    return bool(result.tests) and all(t.passed for t in result.tests)


def _show_project(console: Console, result: ExerciseResult) -> None:
    status = "[green]done[/]" if _passed(result) else "[red]todo[/]"
    console.print(f"\n[bold]{result.title}[/] {status}")
    for note in result.notes:
        console.print(f"  [yellow]! {escape(note)}[/]")  # a note may quote the student's code
    hung = HUNG_BEFORE.format(exercise=result.exercise)
    unwritten: set[str] = set()  # where a function not written yet raised, once shown
    shown: dict[str, str] = {}  # a failure's cause -> the test that showed it all
    for test in result.tests:
        if test.message == hung:
            continue  # said once, below
        mark = "[green]PASS[/]" if test.passed else "[red]FAIL[/]"
        console.print(f"  {mark} {test.name}")
        if not test.passed and (where := UNWRITTEN.search(test.message or "")):
            if where.group(1) in unwritten:  # a stub fails every check the same way
                console.print(f"       the same NotImplementedError, at {where.group(1)}: "
                              "see above", markup=False, highlight=False)
                continue
            unwritten.add(where.group(1))
        if not test.passed and test.message:  # all of it, as feedback.md shows it
            message = clean_message(test.message)
            cause = _cause(message)
            if cause in shown:  # one mistake failing many checks (no accept(), a 500): once
                console.print(f"       the same failure as {shown[cause]} (see above)",
                              markup=False, highlight=False)
                continue
            shown[cause] = test.name
            for line in message.splitlines():  # the terminal wraps:
                console.print(f"       {line}", markup=False, highlight=False, soft_wrap=True)
    if not_run := sum(test.message == hung for test in result.tests):
        console.print(f"  [yellow]{not_run} more check{'s' * (not_run != 1)} not run: a check "
                      "hung: fix it first, then run again.[/]")


def _show_step(console: Console, result: StepResult) -> None:
    step = result.step
    status = "[green]done[/]" if result.passed else "[red]todo[/]"
    console.print(f"\n[bold]Step {step.order}: {step.id}[/] ({step.title}) {status}")
    console.print(f"  {'[green]PASS[/]' if result.passed else '[red]FAIL[/]'} "
                  f"exercises/{step.module}")
    for line in shortened(result.message).splitlines():  # unbroken, so a scenario's JSON
        console.print(f"       {line}", markup=False, highlight=False, soft_wrap=True)


def _stuck(item: Exercise) -> str:
    """Where to turn next: the hints, and for a project the page that pairs each check
    with its rule (a failing check's name does not say which rule it is about)."""
    if item.kind == "step":
        return f"Stuck? `day25 hint {item.id}`."
    return (f"Stuck? `day25 hint {item.id}`. The rule behind each check: the table under "
            f"'Checking' in {exercise_page(item)}.")


def _label(item: Exercise, catalogue: Catalogue) -> str:
    if item.kind == "step":
        return f"step {item.order}/{len(catalogue.steps)}  {item.id}"
    return f"{item.title}"


def _bar(console: Console, done: int, total: int, live: bool) -> None:
    if live:
        with Progress(TextColumn("progress"), BarColumn(), MofNCompleteColumn(),
                      console=console) as bar:
            bar.add_task("", total=total, completed=done)
    else:
        console.print(f"progress: {done}/{total}")


def _run(item: Exercise, catalogue: Catalogue, settings: Settings,
         path: Path) -> StepResult | ExerciseResult:
    if item.kind == "step":
        return run_step(item, path, catalogue.root)
    return check_project(item, settings, path, catalogue.review_modules)


def _ok(result: StepResult | ExerciseResult) -> bool:
    return result.passed if isinstance(result, StepResult) else _passed(result)


def walk(catalogue: Catalogue, settings: Settings, path: Path, *,
         console: Console, live: bool = True) -> bool:
    """Check the ladder in order; stop at the first item that is not done."""
    ladder = catalogue.ladder()
    console.print("[bold]Day 25: the steps, then the projects, in order[/]")
    console.print(namespaces.describe(), style="dim")  # what the projects' code runs in
    done = 0
    failing: StepResult | ExerciseResult | None = None
    for item in ladder:
        result = _run(item, catalogue, settings, path)
        if _ok(result):
            done += 1
            console.print(f"  [green]done[/]  {_label(item, catalogue)}")
            continue
        console.print(f"  [red]todo[/]  {_label(item, catalogue)}  [bold]<- you are here[/]")
        failing = result
        break
    for item in ladder[done + 1:]:
        console.print(f"  [dim]....  {_label(item, catalogue)}[/]")
    if isinstance(failing, StepResult):
        _show_step(console, failing)
    elif failing is not None:
        _show_project(console, failing)
    _bar(console, done, len(ladder), live)
    if failing is None:
        console.print("[bold green]Every step and every project passes its public checks.[/]")
        console.print(HIDDEN_NOTICE, style="yellow")
        return True
    item = ladder[done]
    console.print(f"Next: edit exercises/{item.module}, then run `day25 check` again. "
                  f"{_stuck(item)}")
    if item.kind == "step":
        console.print(STEPS_NOTICE.format(project=item.leads_to), style="dim")
    elif done >= len(catalogue.steps):
        console.print(HIDDEN_NOTICE, style="yellow")
    return False


def check(catalogue: Catalogue, settings: Settings, path: Path, *, only: str | None = None,
          console: Console | None = None, live: bool = True) -> bool:
    """``day25 check``: walk the ladder, or check the item ``only``; True when all pass."""
    console = console or Console()
    if only is None:
        return walk(catalogue, settings, path, console=console, live=live)
    try:
        item = catalogue.item(only)
    except KeyError:
        known = ", ".join(e.id for e in catalogue.ladder())
        raise ValueError(f"unknown exercise {only!r}; choose one of: {known}") from None
    if item.kind == "step":
        step = run_step(item, path, catalogue.root)
        _show_step(console, step)
        if not step.passed:
            console.print(_stuck(item))
        return step.passed
    console.print(namespaces.describe(), style="dim")  # what your code runs in
    if live:
        with Progress(TextColumn("checking"), BarColumn(), TextColumn(item.id),
                      console=console, transient=True) as bar:
            bar.add_task("", total=None)
            result = check_project(item, settings, path, catalogue.review_modules)
    else:
        result = check_project(item, settings, path, catalogue.review_modules)
    _show_project(console, result)
    passed = _passed(result)
    console.print(f"[bold]{int(passed)}/1 exercises pass their public checks.[/]")
    if not passed:
        console.print(_stuck(item))
    console.print(HIDDEN_NOTICE, style="yellow")
    return passed


def changed_items(catalogue: Catalogue, path: Path, changed: Iterable[str]) -> list[Exercise]:
    """The steps and projects whose module is among the ``changed`` files, in ladder order."""
    files = {Path(name).resolve() for name in changed}
    return [item for item in catalogue.ladder() if (path / item.module).resolve() in files]


def _saves(path: Path) -> Iterator[set[tuple[Any, str]]]:
    """Batches of ``.py`` saves under ``path``, from now on (some batches are empty).

    Why it starts here: ``watchfiles.watch`` starts watching at the first ``next``,
    which :func:`watch` reaches only after the first check; a save made while that
    check ran, or just after it, was lost. Waking every ``WAKE_MS`` lets the first
    ``next`` return, with the watcher running, before the first check starts.
    """
    from watchfiles import watch as watch_changes

    saves = watch_changes(path, watch_filter=lambda _change, name: name.endswith(".py"),
                          rust_timeout=WAKE_MS, yield_on_timeout=True)
    first = next(saves)  # the watcher runs from here on
    return itertools.chain([first], saves)


def watch(catalogue: Catalogue, settings: Settings, path: Path, *,
          only: str | None = None, console: Console | None = None,
          changes: Iterable[set[tuple[Any, str]]] | None = None) -> None:
    """Check, then re-check on every save under ``path`` (Ctrl-C to stop): only the step or
    project whose file was saved (``only``: that one, when its file was saved); a save of
    any other ``.py`` file walks the ladder again, since any item may import it. When what
    was saved now passes, the next item of the ladder is checked too: it says what to do
    next, as the walk would."""
    console = console or Console()
    if changes is None:
        changes = _saves(path)
    check(catalogue, settings, path, only=only, console=console)
    console.print("[dim]watching for changes... (Ctrl-C to stop)[/]")
    for batch in changes:
        if not batch:
            continue  # the watcher woke with nothing saved
        items = changed_items(catalogue, path, (name for _change, name in batch))
        if only is not None:
            if items and all(item.id != only for item in items):
                continue  # another exercise's file: not the one being watched
            items = [catalogue.item(only)]
        console.clear()
        if not items:
            check(catalogue, settings, path, console=console)
        passed = [check(catalogue, settings, path, only=item.id, console=console)
                  for item in items]
        if only is None and items and all(passed):
            _on_from(catalogue, settings, path, items[-1], console)
        console.print("[dim]watching for changes... (Ctrl-C to stop)[/]")


def _on_from(catalogue: Catalogue, settings: Settings, path: Path, passed: Exercise,
             console: Console) -> None:
    """After a save made ``passed`` pass, go on down the ladder as the walk would: each
    item after it that is done in one line, then the first one not done, in full, as
    "Next". (It used to name the item right after as next, done or not.)"""
    ladder = catalogue.ladder()
    for item in ladder[ladder.index(passed) + 1:]:
        result = _run(item, catalogue, settings, path)
        if _ok(result):
            console.print(f"  [green]done[/]  {_label(item, catalogue)}")
            continue
        console.print(f"\n[bold]Next: {item.id}[/]")
        if isinstance(result, StepResult):
            _show_step(console, result)
        else:
            _show_project(console, result)
        console.print(_stuck(item))
        return
