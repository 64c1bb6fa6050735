"""The session server: forks one grading pytest session per request, from a warm process.

Why: a fresh ``python -m pytest`` spends seconds importing pytest, its
plugins, hypothesis, websockets and httpx, and rewriting their asserts, before
a single test runs; graded four times per student, that was most of a class's
grading time (``docs/benchmarks/grading-speed.md``). This small fork server
(``python -m day25.course.grading.session_server``, one per grading process)
imports all of that once; every session is a fresh ``fork()`` of it, so
sessions share nothing (no hypothesis database, no event loop, no module
state) and a killed session takes no other with it. (``multiprocessing``'s own
fork server re-imports the caller's ``__main__`` in every child, which breaks
under pytest and Typer.)

Only trusted code runs in these processes: the course's own suites, which
talk to submissions through sandboxed processes (:mod:`day25.course.harness`)
and never import them. Plugins are named explicitly
(``PYTEST_DISABLE_PLUGIN_AUTOLOAD``) so what else is installed on the grading
machine cannot change a grade. Each session's zygote is forked warm too, by
a process this server forks before it reads any request (:func:`_forker`), so
that no zygote carries another student's request in its memory. Its
client is :mod:`day25.course.grading.sessions`; the wires are 1 and 2 of
:mod:`day25.course.protocol`.
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
import sys
import tempfile
from typing import cast

from day25.course.grading.sessions import PLUGINS
from day25.course.logs import log_nexios_directly
from day25.course.protocol import (
    ZYGOTE_FORKS_ENV,
    SessionEnded,
    SessionRequest,
    SessionStarted,
)
from day25.course.sandbox import namespaces, processes, rlimits, zygote_server

__all__ = ["preload", "serve"]

_PRELOAD = (
    "pytest", "_pytest.python", "_pytest.assertion.rewrite", *PLUGINS, "hypothesis",
    "hypothesis.strategies", "hypothesis.extra._patching",  # imported when a test fails
    "httpx", "httpcore", "anyio._backends._asyncio", "websockets", "websockets.asyncio.client",
    "day25", "day25.course.harness", "day25.course.harness.pytest_plugin",
    # pytest's own plugins and what they pull in, else imported by every session
    "_pytest.warnings", "_pytest.unraisableexception", "_pytest.threadexception",
    "_pytest.unittest", "_pytest.skipping", "_pytest.faulthandler", "_pytest.helpconfig",
    "_pytest.tracemalloc", "_pytest.setuponly", "_pytest.setupplan", "_pytest.pastebin",
    "pdb", "faulthandler",
)


def _run_session(request: SessionRequest, control: tuple[int, int]) -> None:
    """In the forked process: a new session, the given environment, output to the log, pytest."""
    for fd in control:
        os.close(fd)
    rlimits.die_with_parent()  # a killed server takes its sessions with it
    os.setsid()  # its own process group: the grader's kill reaches what it started
    os.chdir(request["cwd"])
    forks = os.environ.get(ZYGOTE_FORKS_ENV)  # where this server forks zygotes
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # the server's cached choice: this session's TMPDIR wins
    if forks:
        os.environ[ZYGOTE_FORKS_ENV] = forks
    # trusted suites only: caching their assert-rewritten bytecode saves every
    # later session the rewrite (submission code never runs in this process)
    sys.dont_write_bytecode = "PYTHONDONTWRITEBYTECODE" in request["env"]
    fd = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdin = open(os.devnull, encoding="utf-8")  # noqa: SIM115 - lives as long as the process
    import pytest

    code = 3
    try:
        code = int(pytest.main(list(request["args"])))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def preload() -> None:
    """Import what sessions and zygotes need, once; this process then has one thread,
    as a process that forks must (nexios logs directly: :mod:`day25.course.logs`)."""
    log_nexios_directly()
    for name in _PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    zygote_server.preload()  # sessions' zygotes are forked from here, already warm
    namespaces.warm()  # and so is the part of their views that comes from this process
    gc.freeze()  # every session's gc.collect() skips what was preloaded (pytest runs it 5x)


def serve() -> None:
    """Preload, then fork one pytest session per request until stdin closes."""
    preload()
    hardened = namespaces.hardened()
    private = tempfile.mkdtemp(prefix="d25s-")  # 0700: only the grader's sessions connect
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(os.path.join(private, "forks"))
    listener.listen(16)
    forker = None
    if namespaces.forks_zygotes():  # else sessions exec their zygotes (bwrap, no root)
        os.environ[ZYGOTE_FORKS_ENV] = listener.getsockname()
        forker = _forker(listener, hardened)  # before this process reads any request
    listener.close()
    control = (os.dup(0), os.dup(1))
    os.dup2(os.open(os.devnull, os.O_RDWR), 0)
    out = os.fdopen(control[1], "w", buffering=1)
    children: set[int] = set()  # the sessions
    pending = b""
    wake_r, wake_w = processes.wake_on_child_exit()  # a session's end is reported at once
    while True:
        ready, _, _ = select.select([control[0], wake_r], [], [], 1.0)
        if wake_r in ready:
            os.read(wake_r, 4096)
        if control[0] in ready:
            chunk = os.read(control[0], 65536)
            if not chunk:
                break  # the grader went away: take every session with us
            pending += chunk
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                request = cast(SessionRequest, json.loads(line))
                pid = os.fork()
                if pid == 0:
                    processes.forget_child_exit((wake_r, wake_w))
                    _run_session(request, control)
                children.add(pid)
                started: SessionStarted = {"id": request["id"], "pid": pid}
                out.write(json.dumps(started) + "\n")
        while children or forker:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            if pid == forker:  # it failed: sessions will say their zygote could not start
                forker = None
                continue
            children.discard(pid)
            ended: SessionEnded = {"pid": pid, "code": os.waitstatus_to_exitcode(status)}
            out.write(json.dumps(ended) + "\n")
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    if forker:
        os.kill(forker, signal.SIGTERM)  # it ends its zygotes' supervisors, then itself
        os.waitpid(forker, 0)
    shutil.rmtree(private, ignore_errors=True)


def _forker(listener: socket.socket, hardened: bool) -> int:
    """Fork the process that forks zygotes; it never reads a request itself.

    For each session that asks for a zygote it accepts the connection and forks a
    supervisor at once, and only that supervisor reads the request
    (:func:`~day25.course.sandbox.zygote_server.serve_fork_request`). So this
    process holds what :func:`preload` put there and nothing of any student, and
    neither does a zygote. SIGTERM (from the server, at its end) ends it and its
    supervisors; if the server dies, the kernel kills it.
    """
    pid = os.fork()
    if pid:
        return pid
    supervisors: set[int] = set()
    try:
        rlimits.die_with_parent()
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)  # not the server's control pipes: their ends are the server's
        os.dup2(devnull, 1)

        def end(*_: object) -> None:
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, end)
        wake_r, wake_w = processes.wake_on_child_exit()
        while True:
            ready, _, _ = select.select([listener.fileno(), wake_r], [], [], 1.0)
            if wake_r in ready:
                os.read(wake_r, 4096)
            if listener.fileno() in ready:
                conn, _ = listener.accept()
                child = os.fork()
                if child == 0:
                    signal.signal(signal.SIGTERM, signal.SIG_DFL)
                    listener.close()
                    zygote_server.serve_fork_request(conn, hardened, close=(wake_r, wake_w))
                conn.close()
                supervisors.add(child)
            while supervisors:
                done, _ = os.waitpid(-1, os.WNOHANG)
                if done == 0:
                    break
                supervisors.discard(done)
    except BaseException:  # SystemExit from SIGTERM, or a failure: end the supervisors
        for child in supervisors:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child, signal.SIGKILL)
    os._exit(0)


if __name__ == "__main__":
    serve()
