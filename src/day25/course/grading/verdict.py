"""The verdict on one pytest session: run the suites, read the result, trust it or not.

Why this shape: the verdict is decided by a pytest process that never imports
submission code (the harness runs it in sandboxed processes), and is read back
from a JSON file at an unguessable path in a directory only the grader can
write (wire 5 of :mod:`day25.course.protocol`). The pytest exit code must agree
with that file. A missing, garbled or inconsistent result is 0 points with a
clear sentence, never a crash, and a hung run costs only its own exercise:
each exercise has a wall-clock budget inside the session, and a session the
grader must kill keeps the exercises it had finished (the session is forked
from a warm server, see :mod:`day25.course.grading.sessions`). ``day25 check``
uses the very same :func:`run_suites`, so a student's check and the
instructor's grade cannot disagree about the same code.

A test the runner could not run (a session that could not start or wrote no
result, a row carrying ``runner_error``) scores 0 like a failure, but its
exercise also lists why in ``runner_errors``: that is no verdict on the code,
and ``day25 check`` says it could not run the checks instead of FAIL.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from day25.course.catalogue import COURSE_ROOT_ENV, Exercise, Suite
from day25.course.grading.feedback import shortened
from day25.course.grading.results import ExerciseResult, TestResult
from day25.course.grading.sessions import run_session
from day25.course.protocol import (
    BUDGET_SPENT,
    CANNOT_RUN_EXIT,
    IMPORT_FAILED,
    OUTPUT_MARKER,
    PARTIAL_SUFFIX,
)
from day25.course.sandbox.runner import RunnerError

__all__ = ["Settings", "apportion", "import_failure", "run_suite", "run_suites"]

#: what the student's code printed follows the harness' marker in a message
#: (``day25.course.harness.errors.SubmissionError``)
_REFUSED = "Your {module} was not checked: "  # it imported what its exercise refuses
#: characters of a test's message kept in its result (the middle goes: the end says what
#: went wrong); what a student is shown is shorter still (``feedback.SHOWN_CHARS``)
KEPT_CHARS = 4000
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]*)", line (?P<line>\d+)')


@dataclass(frozen=True)
class Settings:
    """Where the course lives and how long things may take."""

    course_root: Path
    exercise_timeout: float = 180.0
    submission_timeout: float = 600.0
    test_timeout: float = 60.0
    #: at most this many concurrent sessions per submission; a batch splits a
    #: student only when it has too few students to fill its session slots
    sessions: int = 2
    #: skip an exercise's remaining tests once one failed: "does it lose points?" at
    #: less cost, for checking the suites against known bugs; never for a grade
    stop_at_first_failure: bool = False
    #: skip an exercise's remaining tests once one hung (``day25 check``'s: the others would
    #: hang too, one timeout each); never for a grade
    stop_at_first_hang: bool = False


def _read_rows(path: Path) -> list[dict[str, Any]] | str:
    """The verdict rows of a whole session, or the reason they cannot be trusted."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return "the test run ended before writing any result (it crashed or timed out)"
    except (OSError, ValueError):
        return "the test run's result could not be read"
    rows = data.get("tests", data) if isinstance(data, dict) else data
    if not isinstance(rows, list) or not rows:
        return "the test run produced no test results"
    for row in rows:
        if not isinstance(row, dict) or not isinstance(row.get("max_points", 0), int | float):
            return "the test run's result had an unexpected shape"
    return rows


def _partial_rows(path: Path) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """What a session that was cut off had finished: (tests collected, rows written)."""
    collected: dict[str, int] = {}
    rows: list[dict[str, Any]] = []
    with contextlib.suppress(OSError):
        for line in path.read_text(encoding="utf-8").splitlines():
            with contextlib.suppress(ValueError):
                item = json.loads(line)
                if isinstance(item, dict) and isinstance(item.get("collected"), dict):
                    collected = {str(k): int(v) for k, v in item["collected"].items()}
                elif isinstance(item, dict) and isinstance(item.get("max_points", 0), int | float):
                    rows.append(item)
    return collected, rows


def apportion(points: float, weights: list[float]) -> list[float]:
    """``points`` shared out in proportion to ``weights``, in hundredths that add up to
    exactly ``points`` (the largest remainders get the cents rounding leaves over).

    Why: each test's points are shown to two decimals (feedback, ``results.json``), and
    a suite's weights seldom divide its points evenly: 25 over 30 weights is 0.833...,
    so thirty tests shown as 0.83 would add up to 24.90, and as 0.84 to 25.20.
    """
    total = sum(weights)
    if total <= 0:
        return [0.0] * len(weights)
    exact = [w * round(points * 100) / total for w in weights]
    cents = [int(e) for e in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: cents[i] - exact[i])
    for i in by_remainder[:round(points * 100) - sum(cents)]:
        cents[i] += 1
    return [c / 100 for c in cents]


def _score(result: ExerciseResult, exercise: Exercise, rows: list[dict[str, Any]]) -> None:
    weights = [max(float(row.get("max_points") or 0), 0.0) for row in rows]
    shares = apportion(exercise.points, weights)  # the suite's weights, as the catalogue's
    for row, max_score in zip(rows, shares, strict=True):
        passed = row.get("outcome") == "passed"
        score = max_score if passed and float(row.get("points") or 0) > 0 else 0.0
        result.tests.append(TestResult(str(row.get("name") or row.get("nodeid") or "test"),
                                       exercise.id, max(score, 0.0), max_score, passed,
                                       shortened(str(row.get("message") or ""), lines=None,
                                                 chars=KEPT_CHARS)))


def import_failure(message: str, module: str) -> str | None:
    """The note for a test that failed because ``module`` could not be imported: the file,
    the line, the error (and the line of code), without the importer's frames, then what
    the module printed (often the only clue when its top level ended the process);
    ``None`` for any other failure."""
    headline = f"{module} could not be imported, so none of its tests could run."
    refused = _REFUSED.format(module=module)
    message, _, output = message.partition(OUTPUT_MARKER)
    printed = [shown] if (shown := _last_lines(output)) else []
    if message.startswith(refused):
        return "\n".join([headline, message[len(refused):].strip(), *printed])
    if not message.startswith(IMPORT_FAILED.format(module=module)):
        return None
    lines = message.rstrip().splitlines()[1:]
    # the exception starts at the first line after the last frame that is not indented
    # (its message may go on over several lines: its first one is the summary)
    last = max((i for i, line in enumerate(lines) if _FRAME.match(line)), default=-1)
    start = next((i for i in range(last + 1, len(lines)) if not lines[i][:1].isspace()),
                 len(lines) - 1)
    error = lines[start].strip() if lines else "the error was not reported"
    where, code = module, list[str]()
    for number, line in enumerate(lines[:start]):
        frame = _FRAME.match(line)
        if frame and frame["path"].replace("\\", "/").split("/")[-1] == module:
            where, code = f"{module}, line {frame['line']}", []
            for shown in lines[number + 1:start]:
                if _FRAME.match(shown):
                    break
                code.append(shown)
    rest = [line.strip() for line in lines[start + 1:]]  # the message's other lines, notes
    return "\n".join([headline, f"{where}: {error}", *code, *rest, *printed])


def _one_note_for_an_import_failure(result: ExerciseResult, exercise: Exercise) -> None:
    """An import failure fails every test with the same traceback: say it once, as a note,
    and give each test a short line."""
    for test in result.tests:
        note = None if test.passed else import_failure(test.message, exercise.module)
        if note is None:
            continue
        result.refused_import |= test.message.startswith(_REFUSED.format(module=exercise.module))
        if not any(n.startswith(f"{exercise.module} could not be imported") for n in result.notes):
            result.notes.append(note)
        test.message = f"not run: {exercise.module} could not be imported (see the note above)"
    _some_of_its_tests(result, exercise.module)


def _some_of_its_tests(result: ExerciseResult, module: str) -> None:
    """When the import failed in some sessions only (a top level that stops or kills its
    own process, once), the note says how many tests it cost, not "none could run" above
    the tests that ran and passed. Tests the session did not run because the exercise's
    time was spent (often by the failed imports) ran nothing: they import nothing either."""
    headline = f"{module} could not be imported, so none of its tests could run."
    lost = sum(t.message.startswith(f"not run: {module} could not be imported")
               for t in result.tests)
    spent = BUDGET_SPENT.split("{budget", 1)[0].format(exercise=result.exercise)
    ran = len(result.tests) - lost - sum(spent in t.message for t in result.tests)
    if not lost or ran <= 0:
        return
    others = "the other one" if ran == 1 else f"the {ran} others"
    some = (f"{module} could not be imported for {lost} of its {len(result.tests)} tests, "
            f"so those did not run ({others} imported it: does its top level do something "
            "that does not always end the same way?).")
    result.notes[:] = [some + n[len(headline):] if n.startswith(headline) else n
                       for n in result.notes]


def _could_not_run(result: ExerciseResult, why: str, detail: str = "") -> None:
    """Some of ``result``'s tests could not run here (``why``, for the note; ``detail``
    follows it in ``runner_errors``, never in the student's feedback)."""
    result.runner_errors.append(f"{why}\n{detail}".rstrip())
    result.notes.append(f"Tests of {result.exercise} could not run on the grading machine "
                        f"({why.splitlines()[0]}); they score 0 until grading is run again.")


def _runner_errors(result: ExerciseResult, rows: list[dict[str, Any]]) -> None:
    errors = list(dict.fromkeys(str(row["runner_error"]) for row in rows
                                if row.get("runner_error")))
    if errors:
        _could_not_run(result, errors[0], "\n".join(errors[1:]))


def _last_lines(output: str, count: int = 12) -> str:
    lines = [line for line in output.splitlines() if line.strip()][-count:]
    return "its last output:\n" + "\n".join(lines) if lines else ""


def run_suites(
    exercises: list[Exercise],
    submission_dir: Path,
    settings: Settings,
    *,
    suite: Suite = "hidden",
    timeout: float | None = None,
) -> list[ExerciseResult]:
    """Run every exercise's ``suite`` (as the catalogue names it) in ONE pytest session."""
    results = [ExerciseResult(ex.id, ex.title, float(ex.points)) for ex in exercises]
    if not exercises:
        return results
    files = [settings.course_root / ex.tests(suite) for ex in exercises]
    for test_file in files:
        if not test_file.exists():
            raise FileNotFoundError(f"the {suite} suite is missing: {test_file}")
    private = Path(tempfile.mkdtemp(prefix="day25-verdict-"))  # 0700, owned by the grader
    verdict = private / f"{secrets.token_hex(16)}.json"
    args = [*map(str, files), "--submission", str(submission_dir), "--verdict-json", str(verdict),
            "--exercise-budget", str(settings.exercise_timeout), "-q", "-p", "no:cacheprovider",
            "--tb=native",  # the verdict needs the message, not the test's source: no AST
            # each suite's modules by their path: no ini is read here (the submission's folder
            # is not under the course), and two suites may both hold test_random_programs.py
            "--import-mode=importlib",
            "--timeout", str(int(settings.test_timeout)), "--rootdir", str(settings.course_root),
            *(["--stop-at-first-failure"] if settings.stop_at_first_failure else []),
            *(["--stop-at-first-hang"] if settings.stop_at_first_hang else [])]
    env = {**os.environ, COURSE_ROOT_ENV: str(settings.course_root),
           # hypothesis' example database stays private: one student's failing
           # examples must not be replayed on the next, nor land in the course folder
           "HYPOTHESIS_STORAGE_DIRECTORY": str(private / "hypothesis")}
    limit = timeout if timeout is not None else settings.exercise_timeout * len(exercises)
    try:
        try:
            outcome = run_session(args, cwd=settings.course_root, env=env, log=private / "log",
                                  timeout=limit)
        except RunnerError as exc:
            for result in results:
                _could_not_run(result, str(exc))
            return results
        if os.environ.get("DAY25_KEEP_LOGS"):  # the output may quote the hidden suite
            sys.stderr.write(outcome.output)
        if outcome.code is None:
            _cut_off(results, exercises, verdict, limit)
            return results
        rows = _read_rows(verdict)
        if isinstance(rows, str):
            for result in results:
                result.notes.append(f"The grader could not get a verdict for {result.exercise}: "
                                    f"{rows}; this exercise scores 0.")
                # the session runs no submission code: a session without a result is the runner's
                result.runner_errors.append(f"the test session ended (exit code {outcome.code}) "
                                            f"without a result: {rows}\n"
                                            f"{_last_lines(outcome.output)}".rstrip())
            return results
        failed = any(row.get("outcome") in ("failed", "error") for row in rows)
        broken = any(row.get("runner_error") for row in rows)
        known = {ex.id for ex in exercises}
        if any(row.get("exercise") not in known for row in rows):
            reason = "its results name an exercise that was not graded"
        elif outcome.code != (CANNOT_RUN_EXIT if broken else 1 if failed else 0):
            reason = (f"it ended abnormally (exit code {outcome.code}) and its results "
                      "disagree with it")
        else:
            reason = ""
        for result, exercise in zip(results, exercises, strict=True):
            mine = [row for row in rows if row.get("exercise") == exercise.id]
            if reason:
                result.notes.append(f"The test run for {exercise.id} could not be trusted: "
                                    f"{reason}; this exercise scores 0.")
            elif not mine:
                result.notes.append(f"The grader could not get a verdict for {exercise.id}: "
                                    "the test run produced no test results; it scores 0.")
            else:
                _score(result, exercise, mine)
                _one_note_for_an_import_failure(result, exercise)
                _runner_errors(result, mine)
        return results
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _cut_off(results: list[ExerciseResult], exercises: list[Exercise], verdict: Path,
             limit: float) -> None:
    """A session killed by the wall clock: exercises it had finished keep their tests, and
    one whose tests the machine could not run says so, not that the student's code hung."""
    collected, rows = _partial_rows(verdict.with_name(verdict.name + PARTIAL_SUFFIX))
    for result, exercise in zip(results, exercises, strict=True):
        mine = [row for row in rows if row.get("exercise") == exercise.id]
        if mine and len(mine) == collected.get(exercise.id, -1):
            _score(result, exercise, mine)
            _one_note_for_an_import_failure(result, exercise)
            _runner_errors(result, mine)
        elif any(row.get("runner_error") for row in mine):
            _runner_errors(result, mine)  # the machine could not run them: not the student's
        else:
            result.notes.append(f"The tests for {exercise.id} did not finish within {limit:.0f} s "
                                "(an endless loop or a handler that never returns?); "
                                "this exercise scores 0.")
            if (clue := _first_failure(mine, exercise)) is not None:
                result.notes.append(clue)


def _first_failure(rows: list[dict[str, Any]], exercise: Exercise) -> str | None:
    """What the first test of a cut-off exercise that did not pass said: often why the
    rest hung (an import that never finished fails every test, one timeout each)."""
    row = next((row for row in rows if row.get("outcome") in ("failed", "error")), None)
    if row is None:
        return None
    message = str(row.get("message") or "")
    name = str(row.get("name") or row.get("nodeid") or "test")
    return import_failure(message, exercise.module) or (
        f"The first of its tests that did not pass, {name}, said: "
        f"{shortened(message, lines=None, chars=KEPT_CHARS)}")


def run_suite(
    exercise: Exercise,
    submission_dir: Path,
    settings: Settings,
    *,
    suite: Suite = "hidden",
    timeout: float | None = None,
) -> ExerciseResult:
    """One exercise's suite: :func:`run_suites` with a single exercise."""
    return run_suites([exercise], submission_dir, settings, suite=suite, timeout=timeout)[0]
