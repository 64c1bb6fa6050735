"""The ladder's steps: one small module and one quick check each, run in a subprocess.

Why not the grading pipeline: a step is ungraded practice on the student's own
machine, and its feedback must be instant. The projects' public checks go
through the grader's pipeline (a copy, a pytest session, a sandboxed inside
process) so that a check and a grade never disagree; a step has no grade to
agree with. So a step runs as ``python -m day25.course.student.steps MODULE
CHECK RESULT``: a child process (a student's endless loop or crash costs the
child, never ``day25 check``) that imports the student's module by its path and
calls the check's ``check(module)`` (awaited when it is ``async def``). The
same rules as for graded modules hold in it: ``day25.realtime`` and
``day25.serve`` are off limits (:func:`~day25.course.inside.submission.forbid_off_limits`).

A check is a plain function in ``tests/public/steps/<id>.py`` whose
``AssertionError`` messages are written for the student; the result travels
as a JSON file (the student's prints cannot forge it by accident).
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from day25.course.catalogue import Exercise
from day25.course.grading.intake import not_utf8
from day25.course.harness.errors import decode_places, last_seen
from day25.course.inside.submission import (
    forbid_off_limits,
    not_done_yet,
    off_limits_in,
    where_in,
)
from day25.course.inside.whereabouts import Watcher
from day25.course.protocol import CodePlace

__all__ = ["STEP_TIMEOUT", "StepResult", "main", "run_step"]

STEP_TIMEOUT = 15.0  # seconds: a check takes well under one; more is an endless loop


@dataclass(frozen=True)
class StepResult:
    """What one step's check said: passed, or the one sentence to fix first."""

    step: Exercise
    passed: bool
    message: str = ""


def run_step(step: Exercise, folder: Path, course_root: Path, *,
             timeout: float = STEP_TIMEOUT) -> StepResult:
    """Check the student's ``folder / step.module`` with the step's check, in a child."""
    module = folder / step.module
    if not module.is_file():
        return StepResult(step, False, f"There is no {step.module} in {folder}: the step's file "
                                       "is missing (get it back from the course's exercises/).")
    if why := not_utf8(step.module.rpartition("/")[2], module.read_bytes()):
        return StepResult(step, False, why)  # Python's own SyntaxError would be a traceback
    with tempfile.TemporaryDirectory(prefix="day25-step-") as tmp:
        out = Path(tmp) / "result.json"
        command = [sys.executable, "-m", "day25.course.student.steps", str(module),
                   str(course_root / step.tests("public")), str(out)]
        try:
            # UTF-8 whatever the system's code page: on Windows a pipe is cp1252, and a
            # step that prints "✓" would fail there only
            env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONUTF8": "1"}
            proc = subprocess.run(command, cwd=tmp, capture_output=True, encoding="utf-8",
                                  errors="replace", timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return StepResult(step, False, f"Your {step.module} did not finish within "
                                           f"{timeout:g} s: an endless loop, or an await that "
                                           f"never returns?\n{_last_seen(out)}".rstrip())
        try:
            result = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            tail = (proc.stdout + proc.stderr)[-1500:]
            return StepResult(step, False, f"The check of {step.id} ended without a result "
                                           f"(exit code {proc.returncode}):\n{tail}")
    return StepResult(step, bool(result.get("passed")), str(result.get("message", "")))


def _at(result: Path) -> Path:
    """Where the child keeps the place its main thread was last seen at."""
    return result.with_name(result.name + ".at")


def _keep_place(result: Path) -> Callable[[list[CodePlace]], None]:
    def keep(at: list[CodePlace]) -> None:
        _at(result).with_suffix(".new").write_text(json.dumps(at), encoding="utf-8")
        os.replace(_at(result).with_suffix(".new"), _at(result))

    return keep


def _last_seen(result: Path) -> str:
    try:
        return last_seen(decode_places(json.loads(_at(result).read_text(encoding="utf-8"))))
    except (OSError, ValueError):
        return ""


def _load(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _verdict(module_path: Path, check_path: Path) -> tuple[bool, str]:
    forbid_off_limits()
    try:
        module = _load(module_path, f"day25_step_{module_path.stem}")
    except Exception as exc:
        if refused := off_limits_in(exc):
            return False, f"Your {module_path.name} was not checked: {refused}"
        tb = "".join(traceback.format_exception(exc)[-4:]).rstrip()
        return False, f"Importing your {module_path.name} failed:\n{tb}"
    check = _load(check_path, f"day25_step_check_{check_path.stem}").check
    try:
        outcome = check(module)
        if inspect.isawaitable(outcome):
            asyncio.run(outcome)  # type: ignore[arg-type]
    except AssertionError as exc:
        return False, str(exc)
    except NotImplementedError as exc:
        return False, not_done_yet(exc, module_path)
    except Exception as exc:
        if refused := off_limits_in(exc):
            return False, f"Your {module_path.name} was not checked: {refused}"
        said = f"Your code raised {type(exc).__name__}: {exc}{where_in(exc, module_path)}"
        return False, said + _forgotten_await(exc)
    return True, ""


def _forgotten_await(exc: Exception) -> str:
    """A sentence for the error asyncio raises where an ``await`` is missing: reading a
    future (what ``gather`` and ``create_task`` return) that was never awaited."""
    if isinstance(exc, RuntimeError) and str(exc) == "await wasn't used with future":
        return (". Did you forget an `await`? What asyncio.gather, create_task and "
                "ensure_future return must be awaited before it is used.")
    return ""


def main(argv: list[str] | None = None) -> None:
    """``python -m day25.course.student.steps MODULE CHECK RESULT``."""
    module_path, check_path, out = (Path(a) for a in (argv or sys.argv[1:]))
    Watcher(_keep_place(out), str(module_path.resolve().parent)).start()
    passed, message = _verdict(module_path.resolve(), check_path.resolve())
    out.write_text(json.dumps({"passed": passed, "message": message}), encoding="utf-8")


if __name__ == "__main__":
    main()
