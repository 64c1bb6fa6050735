"""``day25 check``: a student runs the public tests, rustlings-style.

Why: the student's check must use the same pipeline as the instructor's grade
(modules copied out, the suite run in a subprocess, the verdict read from a
private file), so the two never disagree about the same code. It shows each
test passed/failed, the catalogue's next hint for a failing exercise (one more
per run, stored next to the exercises), a progress bar over all exercises, and
says plainly that hidden tests also run at grading: green here is not 100 %.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from day25.course.catalogue import Exercise
from day25.course.grading.feedback import clean_message
from day25.course.grading.intake import Submission, take_modules, write_copy
from day25.course.grading.results import ExerciseResult
from day25.course.grading.verdict import Settings, run_suite
from day25.course.sandbox import namespaces
from day25.course.student import cannot_run

__all__ = ["HIDDEN_NOTICE", "check", "watch"]

HIDDEN_NOTICE = ("Note: these are the PUBLIC checks only. At grading, hidden tests also run "
                 "and check more, so passing here does not guarantee full points.")


def _next_hint(folder: Path, ex: Exercise) -> str | None:
    """Reveal one more hint per failing run; remembered in ``.day25-hints.json``."""
    if not ex.hints:
        return None
    state_file = folder / ".day25-hints.json"
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    shown = int(state.get(ex.id, 0)) if isinstance(state, dict) else 0
    index = min(shown, len(ex.hints) - 1)
    state = state if isinstance(state, dict) else {}
    state[ex.id] = index + 1
    with contextlib.suppress(OSError):
        state_file.write_text(json.dumps(state), encoding="utf-8")
    return f"hint {index + 1}/{len(ex.hints)}: {ex.hints[index]}"


def _show(console: Console, result: ExerciseResult, hint: str | None) -> None:
    finished = result.tests and result.points >= result.max_points
    status = "[green]done[/]" if finished else "[red]todo[/]"
    console.print(f"\n[bold]{result.title}[/] ({result.exercise}) {status}")
    for note in result.notes:
        console.print(f"  [yellow]! {note}[/]")
    for test in result.tests:
        mark = "[green]PASS[/]" if test.passed else "[red]FAIL[/]"
        console.print(f"  {mark} {test.name}")
        if not test.passed and test.message:
            for line in clean_message(test.message).splitlines()[:8]:
                console.print(f"       {line}", markup=False, highlight=False)
    if hint:
        console.print(f"  [cyan]{hint}[/]")


def check(
    exercises: Sequence[Exercise], settings: Settings, path: Path, *,
    only: str | None = None, console: Console | None = None,
) -> bool:
    """Run the public suite on ``path``; True when every selected exercise passed."""
    console = console or Console()
    chosen = [ex for ex in exercises if only is None or ex.id == only]
    if not chosen:
        known = ", ".join(ex.id for ex in exercises)
        raise ValueError(f"unknown exercise {only!r}; choose one of: {known}")
    console.print(namespaces.describe(), style="dim")
    intake = take_modules(Submission("you", path), [ex.module for ex in chosen])
    done = 0
    results = []
    with tempfile.TemporaryDirectory(prefix="day25-check-") as tmp:
        Path(tmp).chmod(0o755)
        copy = write_copy(intake, Path(tmp) / "submission")
        with Progress(TextColumn("checking"), BarColumn(), MofNCompleteColumn(),
                      TextColumn("{task.description}"), console=console, transient=True) as bar:
            task = bar.add_task("", total=len(chosen))
            for ex in chosen:
                bar.update(task, description=ex.id)
                if ex.module in intake.modules:  # a check that could not run is no FAIL
                    result = cannot_run.ran(run_suite(ex, copy, settings, suite="public"))
                else:
                    result = ExerciseResult(ex.id, ex.title, float(ex.points),
                                            notes=intake.problems.get(ex.module, []))
                results.append(result)
                bar.update(task, advance=1)
    for ex, result in zip(chosen, results, strict=True):
        passed = bool(result.tests) and all(t.passed for t in result.tests)
        done += passed
        _show(console, result, None if passed else _next_hint(path, ex))
    with Progress(TextColumn("progress"), BarColumn(), MofNCompleteColumn(),
                  console=console) as bar:
        bar.add_task("", total=len(chosen), completed=done)
    console.print(f"[bold]{done}/{len(chosen)} exercises pass their public checks.[/]")
    console.print(HIDDEN_NOTICE, style="yellow")
    return done == len(chosen)


def watch(exercises: Sequence[Exercise], settings: Settings, path: Path, *,
          only: str | None = None, console: Console | None = None) -> None:
    """Re-run :func:`check` on every save under ``path`` (Ctrl-C to stop)."""
    from watchfiles import watch as watch_changes

    console = console or Console()
    check(exercises, settings, path, only=only, console=console)
    console.print("[dim]watching for changes... (Ctrl-C to stop)[/]")
    for _changes in watch_changes(path, watch_filter=lambda _c, p: p.endswith(".py")):
        console.clear()
        check(exercises, settings, path, only=only, console=console)
        console.print("[dim]watching for changes... (Ctrl-C to stop)[/]")
