"""The grader's side of an app process: one sandboxed process, a fresh app per test.

Why: see :mod:`day25.course.inside.apps`. An
:class:`~day25.course.harness.app_server.AppServer` asks its :class:`AppProcess`
for a fresh app and talks to it through :class:`RemoteApp`, which has the part
of :class:`~day25.course.harness.inside_process.InsideProcess` the server uses,
with every request addressed to that app. A process that crashed, hung or
wore out is replaced before the next app; its other apps (there are none
between tests) go with it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from day25.course.catalogue import Exercise
from day25.course.harness.errors import SubmissionError
from day25.course.harness.inside_client import InsideClient
from day25.course.harness.inside_process import InsideProcess
from day25.course.protocol import APPS, AppRequest
from day25.course.sandbox.rlimits import Limits
from day25.course.sandbox.zygote import Zygote

__all__ = ["AppProcess", "RemoteApp"]


class RemoteApp:
    """One app in an app process: requests carry its id; its output starts at its start."""

    def __init__(self, owner: AppProcess, process: InsideProcess, app_id: int,
                 mark: int, port: int | None = None) -> None:
        self.owner, self.process, self.app_id = owner, process, app_id
        self.proc = process.proc
        self._mark = mark
        self.port = port  # served on TCP, 127.0.0.1 (None: on its Unix socket)

    def request(self, payload: dict[str, Any], *, timeout: float, what: str) -> dict[str, Any]:
        return self.process.request({**payload, "app": self.app_id}, timeout=timeout, what=what)

    def alive(self) -> bool:
        """Not once its process was killed or replaced, even if the exit is not yet reported
        (a loaded machine reports it late; the old app must not pass for a live one)."""
        return self.owner.serves(self.process) and self.process.alive()

    @property
    def output(self) -> str:
        return self.process.output_since(self._mark)

    def kill(self) -> None:
        """Kill the whole app process (a hung or crashed app): the next app gets a new one."""
        self.owner.kill(self.process)

    def stop(self, timeout: float, *, graceful: bool = False) -> None:
        """End the app (``graceful``: uvicorn's shutdown, else dropped as if killed); a
        process that cannot (a stuck loop, a task that ignores cancellation) is killed."""
        if not self.process.alive():
            return
        try:
            reply = self.request({"cmd": "stop", "graceful": graceful}, timeout=timeout,
                                 what="shutting down")
        except SubmissionError:
            reply = {}
        if not reply.get("stopped"):
            self.kill()


class AppProcess(InsideClient):
    """The inside process serving a submission's apps for one exercise, started on demand."""

    mode = APPS

    def __init__(
        self, submission_dir: str | os.PathLike[str], exercise: str | Exercise, *,
        limits: Limits | None = None, zygote: Zygote | None = None,
    ) -> None:
        super().__init__(submission_dir, exercise, limits=limits, zygote=zygote)
        self._next_app = 0
        self._dirs = 0

    def app_dir(self) -> Path:
        """A new folder for one app (its socket, its ``data`` cwd), inside this client's
        work directory: the app process creates it, so it is the process's to write."""
        self._dirs += 1
        return self.workdir / "apps" / str(self._dirs)

    def open(
        self, *, uds: str | None, cwd: Path, kwargs: dict[str, Any], timeout: float
    ) -> RemoteApp:
        """A fresh ``create_app(**kwargs)`` served on ``uds`` (``None``: on TCP, 127.0.0.1 and
        a port the app process picks), its working directory ``cwd``."""
        for _attempt in range(2):  # a worn-out process answers "retire": one more try, fresh
            process = self._ensure_process()
            self._next_app += 1
            mark = process.output_mark()
            request: AppRequest = {"cmd": "start", "app": self._next_app, "cwd": str(cwd),
                                   "kwargs": kwargs}
            if uds is not None:
                request["uds"] = uds
            try:
                reply = process.request(request, timeout=timeout, what="starting your app")
            except SubmissionError:
                self.kill(process)
                raise
            if reply.get("retire"):
                self.kill(process)
                continue
            if not reply.get("ok"):
                raise SubmissionError(str(reply.get("error")),
                                      output=process.output_since(mark))
            port = reply.get("port")
            return RemoteApp(self, process, self._next_app, mark,
                             int(port) if uds is None and port is not None else None)
        raise SubmissionError("The process serving your apps could not be replaced.")

    def serves(self, process: InsideProcess) -> bool:
        """Whether ``process`` is still the one serving this client's apps."""
        return process is self._process

    def kill(self, process: InsideProcess | None = None) -> None:
        """Kill the app process (only if it is still ``process``, when given)."""
        if self._process is not None and (process is None or process is self._process):
            self._process.kill()
            self._process = None
        elif process is not None:
            process.kill()

    def __enter__(self) -> AppProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
