"""A copy of one exercise's submission and the long-lived inside process that runs it.

Why a copy: the submission's folder is the student's (or the grader's
intake); the inside process gets a private copy of its top-level modules, so
nothing it writes lands in the original and a ``conftest.py`` never comes
along. Why long-lived: one process serves an exercise's many scenarios or
apps; it starts on first use, and a fresh one replaces it once it died or was
killed (a crash costs one test, not the rest).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from day25.course.catalogue import Exercise, load_catalogue
from day25.course.harness.errors import SubmissionError
from day25.course.harness.inside_process import InsideProcess
from day25.course.protocol import InsideArgs
from day25.course.sandbox.rlimits import Limits
from day25.course.sandbox.zygote import Zygote

__all__ = ["InsideClient"]


def _copy_submission(submission_dir: Path, module: str, dest: Path) -> Path:
    """Copy the submission's top-level ``.py`` files: never run them in place."""
    source = Path(submission_dir)
    if source.is_file():
        raise SubmissionError(
            f"The submission {source} is a file: give the folder that holds it, "
            f"{source.parent} (a submission is the folder of its modules)."
        )
    if not (source / module).is_file():
        raise SubmissionError(
            f"There is no {module} in {source}: the submission must hold the module "
            f"{module} (start from exercises/{module})."
        )
    dest.mkdir(parents=True, exist_ok=True)
    for path in source.glob("*.py"):
        if path.name != "conftest.py":
            shutil.copy2(path, dest / path.name)
    return dest


class InsideClient:
    """The base of the harness's clients: a private copy, an inside process in :attr:`mode`.

    ``exercise`` is a catalogue entry, or its id (looked up in the course's
    catalogue). The copy lives in a short private temp directory (Unix socket
    paths must stay under ~100 bytes) removed by :meth:`close`.
    """

    mode = ""

    def __init__(
        self, submission_dir: str | os.PathLike[str], exercise: str | Exercise, *,
        limits: Limits | None = None, zygote: Zygote | None = None,
    ) -> None:
        self.exercise = exercise if isinstance(exercise, Exercise) else (
            load_catalogue().get(exercise))
        self.limits = limits
        self.zygote = zygote
        # a zygote's view shows only its own folder: its clients' folders live inside it
        self.workdir = zygote.new_workdir() if zygote else Path(tempfile.mkdtemp(prefix="d25-"))
        try:
            self._code = _copy_submission(Path(submission_dir), self.exercise.module,
                                          self.workdir / "code")
        except BaseException:
            shutil.rmtree(self.workdir, ignore_errors=True)
            raise
        self._process: InsideProcess | None = None
        self.processes_started = 0

    def inside_args(self) -> InsideArgs:
        """The inside process's command line."""
        return InsideArgs(self.mode, str(self._code), self.exercise.module_name,
                          off_limits=self.exercise.off_limits)

    def _ensure_process(self) -> InsideProcess:
        if self._process is None or not self._process.alive():
            if self._process is not None:
                self._process.kill()
            self._process = InsideProcess(self.inside_args().argv(), cwd=self.workdir,
                                          limits=self.limits, zygote=self.zygote)
            self.processes_started += 1
        return self._process

    def close(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process = None
        shutil.rmtree(self.workdir, ignore_errors=True)
