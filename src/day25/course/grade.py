"""Grade one submission: copy its modules, run each suite in a subprocess, read the verdict.

Why this shape: the verdict is decided by a pytest process that never imports
submission code (the harness runs it in sandboxed children), and is read back
from a JSON file at an unguessable path in a directory only the grader can
write. The pytest exit code must agree with that file. A missing, garbled or
inconsistent result is 0 points with a clear sentence, never a crash, and a
hung run costs only its own exercise (a wall-clock timeout per exercise and per
submission). ``day25 check`` uses the very same :func:`run_suite`, so a
student's check and the instructor's grade cannot disagree about the same code.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from day25.course.submissions import Intake, Submission, content_hash, take_modules

__all__ = [
    "Exercise",
    "ExerciseResult",
    "Settings",
    "StudentResult",
    "TestResult",
    "grade_submission",
    "grader_fingerprint",
    "load_exercises",
    "run_suite",
    "write_copy",
]

OUTPUT_CAP = 64 * 1024


@dataclass(frozen=True)
class Exercise:
    """What the grader needs from a catalogue entry."""

    id: str
    title: str
    module: str
    points: int
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    """Where the course lives and how long things may take."""

    course_root: Path
    exercise_timeout: float = 180.0
    submission_timeout: float = 600.0
    test_timeout: float = 60.0


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

    @property
    def points(self) -> float:
        return min(self.max_points, sum(t.score for t in self.tests))


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
        return sum(e.points for e in self.exercises)


def grader_fingerprint(exercises: list[Exercise], root: Path) -> str:
    """Changes whenever the graded suites or the catalogue change, so resume re-grades."""
    parts = []
    for ex in exercises:
        suite = root / "tests" / "hidden" / f"test_{ex.id}.py"
        parts.append(f"{ex.id}:{ex.points}:{suite.read_text() if suite.exists() else ''}")
    return "\n".join(parts)


def write_copy(intake: Intake, dest: Path) -> Path:
    """Write ONLY the taken modules into ``dest``, readable by the sandbox user."""
    dest.mkdir(parents=True, exist_ok=True)
    dest.chmod(0o755)
    for name, text in intake.modules.items():
        target = dest / name
        target.write_text(text, encoding="utf-8")
        target.chmod(0o644)
    return dest


class _Tail:
    """The last ``OUTPUT_CAP`` bytes of a process's output: a flood costs no memory or disk."""

    def __init__(self) -> None:
        self._data = bytearray()

    def drain(self, proc: subprocess.Popen[bytes]) -> None:
        stream = proc.stdout
        if stream is None:
            return
        with contextlib.suppress(OSError, ValueError):
            while chunk := os.read(stream.fileno(), 65536):
                self._data += chunk
                del self._data[:-OUTPUT_CAP]

    def text(self) -> str:
        return self._data.decode("utf-8", "replace")


def _rows(path: Path, exercise: Exercise) -> list[dict[str, Any]] | str:
    """The verdict rows, or the reason they cannot be trusted."""
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
        if not isinstance(row, dict) or row.get("exercise", exercise.id) != exercise.id:
            return "the test run's result had an unexpected shape"
        if not isinstance(row.get("max_points", 0), int | float):
            return "the test run's result had an unexpected shape"
    return rows


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


def run_suite(
    exercise: Exercise,
    submission_dir: Path,
    settings: Settings,
    *,
    suite: str = "hidden",
    timeout: float | None = None,
) -> ExerciseResult:
    """Run ``tests/<suite>/test_<id>.py`` against ``submission_dir`` in a subprocess."""
    result = ExerciseResult(exercise.id, exercise.title, float(exercise.points))
    test_file = settings.course_root / "tests" / suite / f"test_{exercise.id}.py"
    if not test_file.exists():
        raise FileNotFoundError(f"the {suite} suite for {exercise.id} is missing: {test_file}")
    private = Path(tempfile.mkdtemp(prefix="day25-verdict-"))  # 0700, owned by the grader
    verdict = private / f"{secrets.token_hex(16)}.json"
    argv = [sys.executable, "-m", "pytest", str(test_file), "--submission", str(submission_dir),
            "--results-json", str(verdict), "-q", "-p", "no:cacheprovider",
            "--timeout", str(int(settings.test_timeout)), "--rootdir", str(settings.course_root)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1",
           "DAY25_COURSE_ROOT": str(settings.course_root),
           # hypothesis' example database stays private: one student's failing
           # examples must not be replayed on the next, nor land in the course folder
           "HYPOTHESIS_STORAGE_DIRECTORY": str(private / "hypothesis")}
    limit = timeout if timeout is not None else settings.exercise_timeout
    tail = _Tail()
    try:
        proc = subprocess.Popen(argv, cwd=settings.course_root, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        reader = threading.Thread(target=tail.drain, args=(proc,), daemon=True)
        reader.start()
        try:
            code: int | None = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            _kill(proc)
            code = None
        reader.join(timeout=5)
        if code is None:
            result.notes.append(f"The tests for {exercise.id} did not finish within {limit:.0f} s "
                                "(an endless loop or a handler that never returns?); "
                                "this exercise scores 0.")
            return result
        rows = _rows(verdict, exercise)
        if isinstance(rows, str):
            result.notes.append(f"The grader could not get a verdict for {exercise.id}: {rows}; "
                                "this exercise scores 0.")
            return result
        outcomes = [row.get("outcome") == "passed" for row in rows]
        failed = any(row.get("outcome") in ("failed", "error") for row in rows)
        if code not in (0, 1) or (code == 1) != failed:
            result.notes.append(f"The test run for {exercise.id} ended abnormally (exit code "
                                f"{code}) and its results disagree with it; "
                                "this exercise scores 0.")
            return result
        weights = [max(float(row.get("max_points") or 0), 0.0) for row in rows]
        scale = exercise.points / sum(weights) if sum(weights) > 0 else 0.0
        for row, passed, weight in zip(rows, outcomes, weights, strict=True):
            max_score = weight * scale  # the suite's weights, scaled to the catalogue's points
            score = max_score if passed and float(row.get("points") or 0) > 0 else 0.0
            result.tests.append(TestResult(str(row.get("name") or row.get("nodeid") or "test"),
                                           exercise.id, max(score, 0.0), max_score, passed,
                                           str(row.get("message") or "")[:4000]))
        return result
    finally:
        # the output stays private (it may quote the hidden suite); shown only on request
        if os.environ.get("DAY25_KEEP_LOGS"):
            sys.stderr.write(tail.text())
        shutil.rmtree(private, ignore_errors=True)


def _missing(exercise: Exercise, notes: list[str]) -> ExerciseResult:
    result = ExerciseResult(exercise.id, exercise.title, float(exercise.points))
    result.notes.extend(notes)
    result.notes.append(f"{exercise.id} was not graded; it scores 0.")
    return result


def grade_submission(
    sub: Submission, exercises: list[Exercise], settings: Settings, *, salt: str,
    previous: StudentResult | None = None,
) -> StudentResult:
    """Grade every exercise of one student; ``previous`` is reused if nothing changed."""
    started = time.monotonic()
    intake = take_modules(sub, [ex.module for ex in exercises])
    digest = content_hash(intake, salt)
    if previous is not None and previous.content_hash == digest:
        previous.resumed = True
        return previous
    student = StudentResult(sub.student, digest, [])
    student.notes.extend(intake.problems.get("", []))
    with tempfile.TemporaryDirectory(prefix="day25-sub-") as tmp:
        copy = write_copy(intake, Path(tmp) / "submission")
        Path(tmp).chmod(0o755)
        for ex in exercises:
            remaining = settings.submission_timeout - (time.monotonic() - started)
            problems = intake.problems.get(ex.module, [])
            if ex.module not in intake.modules:
                student.exercises.append(_missing(ex, problems))
            elif remaining <= 1:
                student.exercises.append(_missing(ex, [
                    f"The submission used up its total time ({settings.submission_timeout:.0f} s) "
                    "before this exercise could run."]))
            else:
                limit = min(settings.exercise_timeout, remaining)
                student.exercises.append(run_suite(ex, copy, settings, timeout=limit))
    student.seconds = time.monotonic() - started
    return student


def load_exercises(root: Path) -> list[Exercise]:
    """The catalogue's exercises in order (``exercises/catalogue.toml``)."""
    from day25.course.catalogue import load_catalogue

    return [Exercise(id=e.id, title=e.title, module=e.module, points=e.points, hints=e.hints)
            for e in sorted(load_catalogue(root).exercises, key=lambda e: e.order)]
