"""Run one grading pytest session in a process forked from a warm server.

Why: a fresh ``python -m pytest`` spends about three seconds importing pytest,
its plugins, hypothesis, websockets and httpx, and rewriting their asserts,
before a single test runs; graded four times per student, that was most of a
class's grading time. Here a small fork server (``python -m
day25.course.grading.sessions``, one per grading process) imports all of that once;
every session is a fresh ``fork()`` of it, so sessions share nothing (no
hypothesis database, no event loop, no module state) and a killed session
takes no other with it. (``multiprocessing``'s own fork server re-imports the
caller's ``__main__`` in every child, which breaks under pytest and Typer.)

Only trusted code runs in these processes: the course's own suites, which
talk to submissions through sandboxed children (:mod:`day25.course.harness`),
never import them. Plugins are named explicitly (``PYTEST_DISABLE_PLUGIN_AUTOLOAD``)
so what else is installed on the grading machine cannot change a grade.

The wire (JSON lines): the grader sends ``{"id", "args", "cwd", "env", "log"}``;
the server answers ``{"id", "pid"}`` at once and ``{"pid", "code"}`` when that
session ends (``code`` negative for a signal, as in :mod:`subprocess`).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["PLUGINS", "SessionOutcome", "run_session"]

OUTPUT_CAP = 64 * 1024

#: the plugins a grading session loads, by module (nothing else is auto-loaded)
PLUGINS = ("pytest_asyncio.plugin", "pytest_timeout", "_hypothesis_pytestplugin")

_PRELOAD = (
    "pytest", "_pytest.python", "_pytest.assertion.rewrite", *PLUGINS, "hypothesis",
    "hypothesis.strategies", "hypothesis.extra._patching",  # imported when a test fails
    "httpx", "httpcore", "anyio._backends._asyncio", "websockets", "websockets.asyncio.client",
    "day25", "day25.course.harness.pytest_plugin", "day25.course.harness",
    "day25.course.inside.scenarios", "day25.course.harness.app_process",
    # pytest's own plugins and what they pull in, else imported by every session
    "_pytest.warnings", "_pytest.unraisableexception", "_pytest.threadexception",
    "_pytest.unittest", "_pytest.skipping", "_pytest.faulthandler", "_pytest.helpconfig",
    "_pytest.tracemalloc", "_pytest.setuponly", "_pytest.setupplan", "_pytest.pastebin",
    "pdb", "faulthandler",
)


@dataclass(frozen=True)
class SessionOutcome:
    """How a session ended: its exit code (``None`` when cut off) and its output's tail."""

    code: int | None
    output: str


# -- the server (its own process) -------------------------------------------------
def _run_child(request: dict[str, Any], control: tuple[int, int]) -> None:
    """In the forked child: a new session, the given environment, output to the log, pytest."""
    for fd in control:
        os.close(fd)
    from day25.course.sandbox.processes import _die_with_parent

    _die_with_parent()  # a killed server takes its sessions with it
    os.setsid()  # its own process group: the grader's kill reaches what it started
    os.chdir(request["cwd"])
    forks = os.environ.get("DAY25_ZYGOTE_FORKS")  # where this server forks zygotes
    os.environ.clear()
    os.environ.update(request["env"])
    if forks:
        os.environ["DAY25_ZYGOTE_FORKS"] = forks
    # trusted suites only: caching their assert-rewritten bytecode saves every
    # later session the rewrite (submission code never runs in this process)
    sys.dont_write_bytecode = "PYTHONDONTWRITEBYTECODE" in request["env"]
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
    import pytest

    code = 3
    try:
        code = int(pytest.main(list(request["args"])))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """Preload, then fork one pytest session per request until stdin closes."""
    for name in _PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from day25.course.sandbox import forked_zygote, namespaces, zygote
    from day25.course.sandbox.processes import forget_child_exit, wake_on_child_exit

    zygote.preload()  # sessions' zygotes are forked from here, already warm
    gc.freeze()  # every session's gc.collect() skips what was preloaded (pytest runs it 5x)
    sandboxed = namespaces.hardened()
    private = tempfile.mkdtemp(prefix="d25s-")  # 0700: only the grader's sessions connect
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(os.path.join(private, "forks"))
    listener.listen(16)
    os.environ[forked_zygote.FORKS_ENV] = listener.getsockname()
    control = (os.dup(0), os.dup(1))
    os.dup2(os.open(os.devnull, os.O_RDWR), 0)
    out = os.fdopen(control[1], "w", buffering=1)
    children: set[int] = set()
    pending = b""
    wake_r, wake_w = wake_on_child_exit()  # a session's end is reported at once
    while True:
        ready, _, _ = select.select([control[0], wake_r, listener.fileno()], [], [], 1.0)
        if wake_r in ready:
            os.read(wake_r, 4096)
        if listener.fileno() in ready:
            _serve_zygote_request(listener, children, sandboxed, (wake_r, wake_w, *control))
        if control[0] in ready:
            chunk = os.read(control[0], 65536)
            if not chunk:
                break  # the grader went away: take every session with us
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    forget_child_exit((wake_r, wake_w))
                    listener.close()
                    _run_child(request, control)
                children.add(pid)
                out.write(json.dumps({"id": request["id"], "pid": pid}) + "\n")
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            children.discard(pid)
            code = os.waitstatus_to_exitcode(status)
            out.write(json.dumps({"pid": pid, "code": code}) + "\n")
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    shutil.rmtree(private, ignore_errors=True)


def _serve_zygote_request(listener: socket.socket, children: set[int], sandboxed: bool,
                          close: tuple[int, ...]) -> None:
    """A session asks for its submission's zygote: fork it from this warm process."""
    from day25.course.sandbox import forked_zygote

    conn, _ = listener.accept()
    with conn:
        try:
            conn.settimeout(10)
            data, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
            request = json.loads(data)
            if not fds:
                raise ValueError("no control socket was passed")
            pid = forked_zygote.start_forked(Path(request["zygote"]), int(request["uid"]), fds[0],
                                      sandboxed, close=(*close, listener.fileno(), conn.fileno()),
                                      course=Path(request["course"]))
            os.close(fds[0])
            children.add(pid)
            pidfd = os.pidfd_open(pid)
            socket.send_fds(conn, [json.dumps({"pid": pid}).encode()], [pidfd])
            os.close(pidfd)
        except (OSError, ValueError, KeyError) as exc:
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"error": str(exc)}).encode())


# -- the grader's side ----------------------------------------------------------------
class _Server:
    """The grader's handle on its fork server (one per grading process, started lazily)."""

    def __init__(self) -> None:
        # No parent-death signal here: it fires when the spawning *thread* ends,
        # and graders start this from short-lived worker threads. The server
        # exits when its stdin closes instead, which a dead grader guarantees.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "day25.course.grading.sessions"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, start_new_session=True,
        )
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._pids: dict[int, int] = {}
        self._codes: dict[int, int] = {}
        self._next = 0
        self.closed = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self._cond:
                if "id" in msg:
                    self._pids[msg["id"]] = msg["pid"]
                else:
                    self._codes[msg["pid"]] = msg["code"]
                self._cond.notify_all()
        with self._cond:
            self.closed = True
            self._cond.notify_all()

    def start(self, request: dict[str, Any]) -> int:
        with self._cond:
            self._next += 1
            ident = self._next
            assert self.proc.stdin is not None
            self.proc.stdin.write(json.dumps({**request, "id": ident}).encode() + b"\n")
            self.proc.stdin.flush()
            if not self._cond.wait_for(lambda: ident in self._pids or self.closed, timeout=60):
                raise RuntimeError("the grading session server did not answer")
            if ident not in self._pids:
                raise RuntimeError("the grading session server stopped")
            return self._pids.pop(ident)

    def wait(self, pid: int, timeout: float) -> int | None:
        with self._cond:
            self._cond.wait_for(lambda: pid in self._codes or self.closed, timeout=timeout)
            return self._codes.pop(pid, None)


_server: _Server | None = None
_server_lock = threading.Lock()


def _get_server() -> _Server:
    global _server
    with _server_lock:
        if _server is None or _server.closed or _server.proc.poll() is not None:
            _server = _Server()
        return _server


def _tail(path: Path) -> str:
    try:
        with path.open("rb") as src:
            size = src.seek(0, os.SEEK_END)
            src.seek(max(0, size - OUTPUT_CAP))
            return src.read().decode("utf-8", "replace")
    except OSError:
        return ""


def run_session(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], log: Path, timeout: float
) -> SessionOutcome:
    """``pytest.main(args)`` in a forked process; killed (with its group) after ``timeout`` s."""
    plugin_args = [arg for name in PLUGINS for arg in ("-p", name)]
    child_env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    child_env.pop("PYTHONDONTWRITEBYTECODE", None)
    request = {"args": [*plugin_args, *args], "cwd": str(cwd), "log": str(log), "env": child_env}
    server = _get_server()
    started = time.monotonic()
    pid = server.start(request)
    code = server.wait(pid, max(0.0, timeout - (time.monotonic() - started)))
    if code is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        server.wait(pid, 10)  # reaped by the server
    return SessionOutcome(code, _tail(log))


if __name__ == "__main__":
    serve()
