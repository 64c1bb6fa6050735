"""The child process that runs a submission: ``python -m day25.course.inside MODE ...``.

Modes:

* ``scenario --submission DIR --exercise ID``: reads ``{"id", "scenario"}``
  lines, answers ``{"id", "ok", "result"}`` (see :mod:`day25.course.inside.scenarios`).
* ``host --submission DIR --exercise ID``: serves a fresh ``create_app(**kwargs)``
  per ``start`` command with uvicorn on a Unix socket, then answers ``events``,
  ``ping_loop``, ``settle`` (see :func:`settle`) and ``stop`` for it (see
  :mod:`day25.course.inside.apps`).

The first stdin line is the parent's nonce; every reply carries it. Before the
submission is imported, the reply channel (the original stdout) moves to a
private descriptor, fd 1 is pointed at stderr and fd 0 at /dev/null, so the
submission's prints and reads never touch the protocol.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import sys
import threading
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any, BinaryIO

_RECORDER_PRIORITY = 1_000_000  # records an emit before any listener of the app runs


def _read_line_unbuffered(fd: int) -> str:
    """One line, byte by byte: a buffered read would swallow the requests behind it."""
    data = bytearray()
    while (byte := os.read(fd, 1)) and byte != b"\n":
        data += byte
    return data.decode(errors="replace").strip()


class Channel:
    """The private reply channel and the private request stream."""

    def __init__(self) -> None:
        self.nonce = _read_line_unbuffered(0)
        self._out = os.dup(1)
        self.requests: BinaryIO = os.fdopen(os.dup(0), "rb")
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.dup2(2, 1)  # the submission's print() now lands in the captured stderr
        sys.stdout = sys.stderr
        self._lock = threading.Lock()

    def reply(self, msg: dict[str, Any]) -> None:
        line = json.dumps({**msg, "nonce": self.nonce}, default=repr).encode() + b"\n"
        with self._lock:
            view = memoryview(line)
            while view:
                view = view[os.write(self._out, view) :]

    def __iter__(self) -> Any:
        for line in self.requests:
            try:
                yield json.loads(line)
            except ValueError:
                continue


def _import(submission: str, exercise: str) -> ModuleType:
    sys.path.insert(0, submission)
    sys.dont_write_bytecode = True
    return importlib.import_module(exercise)


def _load_error(exercise: str, exc: BaseException) -> str:
    tb = "".join(traceback.format_exception(exc)[-6:])
    return (
        f"Importing your {exercise}.py failed, so nothing in it could be checked.\n{tb.rstrip()}"
    )


def run_scenarios(channel: Channel, submission: str, exercise: str) -> None:
    from day25.course.inside.scenarios import run_scenario

    module: ModuleType | None = None
    for request in channel:
        msg_id = request.get("id")
        try:
            if module is None:
                module = _import(submission, exercise)
            result = run_scenario(module, exercise, request["scenario"])
        except (Exception, SystemExit) as exc:
            error = _load_error(exercise, exc) if module is None else f"{type(exc).__name__}: {exc}"
            channel.reply({"id": msg_id, "ok": False, "error": error})
            continue
        channel.reply({"id": msg_id, "ok": True, "result": result})


class _EventLog:
    """Every emit on ``app.events``, JSON-ready, readable from the control thread."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, *args: Any, **kwargs: Any) -> None:
        from day25 import current_event

        item = {"event": current_event(), "args": list(args), "kwargs": kwargs}
        item = json.loads(json.dumps(item, default=repr))  # a copy: later mutation is not seen
        with self._lock:
            self.items.append(item)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.items)


SETTLE_HORIZON = 0.25  # a timer due sooner than this is work still to come


def _threads_busy() -> bool:
    """Whether a thread other than the caller is running or in disk wait (``/proc``)."""
    me = threading.get_native_id()
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return False
    for tid in tasks:
        if tid == str(me):
            continue
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii", errors="replace") as f:
                stat = f.read()
        except OSError:
            continue
        if stat[stat.rfind(")") + 2 : stat.rfind(")") + 3] in ("R", "D"):
            return True
    return False


def _loop_busy(loop: asyncio.AbstractEventLoop) -> bool:
    """Callbacks ready to run, a timer due soon, or a worker thread at work."""
    if len(getattr(loop, "_ready", ())) > 0:
        return True
    horizon = loop.time() + SETTLE_HORIZON
    for handle in getattr(loop, "_scheduled", ()):
        if not handle.cancelled() and handle.when() < horizon:
            return True
    return _threads_busy()


async def settle(quiet: float, limit: float) -> bool:
    """True once the app has had nothing to do for ``quiet`` seconds (False after ``limit``).

    Why: "no frame will come" used to mean "none came within a timeout", which
    made every failing check cost seconds and every silence check a guess. An
    app with no ready callbacks, no timer due soon and no busy worker thread for
    a while has finished reacting to what it was sent.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit
    calm_since: float | None = None
    while loop.time() < deadline:
        await asyncio.sleep(0.005)
        if _loop_busy(loop):
            calm_since = None
        elif calm_since is None:
            calm_since = loop.time()
        elif loop.time() - calm_since >= quiet:
            return True
    return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m day25.course.inside")
    parser.add_argument("mode", choices=["scenario", "host"])
    parser.add_argument("--submission", required=True)
    parser.add_argument("--exercise", required=True)
    args = parser.parse_args(argv)
    channel = Channel()
    submission = str(Path(args.submission).resolve())
    if args.mode == "scenario":
        run_scenarios(channel, submission, args.exercise)
    else:
        from day25.course.inside.apps import run_host

        run_host(channel, submission, args.exercise)


if __name__ == "__main__":
    main()
