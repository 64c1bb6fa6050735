"""The grader's side of a host child: one sandboxed process, a fresh app per test.

Why: see :mod:`day25.course.inside.apps`. An :class:`AppServer` asks its
:class:`AppHost` for a fresh app and talks to it through :class:`HostedApp`,
which has the part of :class:`ChildProcess` the server uses, with every request
addressed to that app. A host that crashed, hung or wore out is replaced
before the next app; its other apps (there are none between tests) go with it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from day25.course.harness.process import ChildProcess, SubmissionChild, SubmissionError
from day25.course.sandbox import processes
from day25.course.sandbox.zygote import Zygote

__all__ = ["AppHost", "HostedApp"]


class HostedApp:
    """One app in a host child: requests carry its id; its output starts at its start."""

    def __init__(self, host: AppHost, child: ChildProcess, app_id: int, mark: int) -> None:
        self.host, self.child, self.app_id = host, child, app_id
        self.proc = child.proc
        self._mark = mark

    def request(self, payload: dict[str, Any], *, timeout: float, what: str) -> dict[str, Any]:
        return self.child.request({**payload, "app": self.app_id}, timeout=timeout, what=what)

    def alive(self) -> bool:
        return self.child.alive()

    @property
    def output(self) -> str:
        return self.child.output_since(self._mark)

    def kill(self) -> None:
        """Kill the whole host (a hung or crashed app): the next app gets a new one."""
        self.host.kill(self.child)

    def stop(self, timeout: float, *, graceful: bool = False) -> None:
        """End the app (``graceful``: uvicorn's shutdown, else dropped as if killed);
        a host that cannot (a stuck loop, a task that ignores cancellation) is killed."""
        if not self.child.alive():
            return
        try:
            reply = self.request({"cmd": "stop", "graceful": graceful}, timeout=timeout,
                                 what="shutting down")
        except SubmissionError:
            reply = {}
        if not reply.get("stopped"):
            self.kill()


class AppHost(SubmissionChild):
    """The host child serving a submission's apps for one exercise, started on demand."""

    mode = "host"

    def __init__(
        self, submission_dir: str | os.PathLike[str], exercise: str, *,
        limits: processes.Limits | None = None, zygote: Zygote | None = None,
    ) -> None:
        super().__init__(submission_dir, exercise, limits=limits, zygote=zygote)
        self._next_app = 0
        self._dirs = 0

    def app_dir(self) -> Path:
        """A new folder for one app (its socket, its ``data`` cwd), inside the host's own
        work directory: the host child creates it, so it is the child's to write."""
        self._dirs += 1
        return self._workdir.path / "apps" / str(self._dirs)

    def open(
        self, *, uds: str, cwd: Path, kwargs: dict[str, Any], timeout: float
    ) -> HostedApp:
        """A fresh ``create_app(**kwargs)`` served on ``uds``, its working directory ``cwd``."""
        for _attempt in range(2):  # a worn-out host answers "retire": one more try, fresh
            child = self._ensure_child()
            self._next_app += 1
            mark = child.output_mark()
            request = {"cmd": "start", "app": self._next_app, "uds": uds, "cwd": str(cwd),
                       "kwargs": kwargs}
            try:
                reply = child.request(request, timeout=timeout, what="starting your app")
            except SubmissionError:
                self.kill(child)
                raise
            if reply.get("retire"):
                self.kill(child)
                continue
            if not reply.get("ok"):
                raise SubmissionError(str(reply.get("error")), output=child.output_since(mark))
            return HostedApp(self, child, self._next_app, mark)
        raise SubmissionError("The process serving your apps could not be replaced.")

    def kill(self, child: ChildProcess | None = None) -> None:
        """Kill the host process (only if it is still ``child``, when given)."""
        if self._child is not None and (child is None or child is self._child):
            self._child.kill()
            self._child = None
        elif child is not None:
            child.kill()

    def __enter__(self) -> AppHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
