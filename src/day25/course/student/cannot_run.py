"""``day25 check``'s exit codes, and what it says when the checks could not run here.

Why: a check that could not run says nothing about the student's code. Shown
as FAIL (with a hint), it tells a correct student they are wrong; so when the
runner fails (:class:`~day25.course.sandbox.runner.RunnerError`: a process
that could not start, a session that wrote no result) ``day25 check`` shows no
test and no hint, says "could not run the checks on this machine", why and what
to do, and exits with its own code, which scripts and notebooks can tell apart
from "tests failed".
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from day25.course.grading.results import ExerciseResult
from day25.course.protocol import CANNOT_RUN_EXIT
from day25.course.sandbox.runner import CANNOT_RUN, RunnerError, advice

__all__ = ["CANNOT_RUN_EXIT", "EXIT_CODES", "FAILED", "PASSED", "USAGE", "ran", "report"]

PASSED, FAILED, USAGE = 0, 1, 2

#: ``day25 check``'s exit codes (its ``--help`` and the student guide list them)
EXIT_CODES = {
    PASSED: "every check you asked for passed",
    FAILED: "some check failed: its message says what your code did",
    USAGE: "the command was wrong (an unknown exercise, no exercises folder)",
    CANNOT_RUN_EXIT: f"{CANNOT_RUN}: no test ran to a verdict, nothing is said about your code",
}


def ran(result: ExerciseResult) -> ExerciseResult:
    """``result``, if every test of it could run; else the :class:`RunnerError` saying why."""
    if result.runner_errors:
        raise RunnerError(result.runner_errors[0])
    return result


def report(console: Console, error: RunnerError) -> int:
    """Say that the checks could not run (why, what to do); the exit code to end with."""
    console.print(f"[red bold]day25: {CANNOT_RUN}:[/] {escape(str(error))}")
    console.print(f"What to do: {escape(advice())}")
    console.print("This says nothing about your code: no check passed or failed.", style="dim")
    return CANNOT_RUN_EXIT
