"""The session server: forks one grading pytest session per request, from a warm process.

Why: a fresh ``python -m pytest`` spends seconds importing pytest, its
plugins, hypothesis, websockets and httpx, and rewriting their asserts, before
a single test runs; graded four times per student, that was most of a class's
grading time (``docs/benchmarks.md``). This small fork server
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
machine cannot change a grade. The server also forks each session's zygote
(:func:`~day25.course.sandbox.zygote_server.start_forked`), warm too. Its
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
from pathlib import Path
from typing import cast

from day25.course.grading.sessions import PLUGINS
from day25.course.logs import log_nexios_directly
from day25.course.protocol import (
    ZYGOTE_FORKS_ENV,
    SessionEnded,
    SessionRequest,
    SessionStarted,
    ZygoteForkReply,
    ZygoteForkRequest,
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
    sys.stdin = open(os.devnull)  # noqa: SIM115 - lives as long as the process
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
    sandboxed = namespaces.hardened()
    private = tempfile.mkdtemp(prefix="d25s-")  # 0700: only the grader's sessions connect
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    listener.bind(os.path.join(private, "forks"))
    listener.listen(16)
    if namespaces.forks_zygotes():  # else sessions exec their zygotes (bwrap, no root)
        os.environ[ZYGOTE_FORKS_ENV] = listener.getsockname()
    control = (os.dup(0), os.dup(1))
    os.dup2(os.open(os.devnull, os.O_RDWR), 0)
    out = os.fdopen(control[1], "w", buffering=1)
    children: set[int] = set()  # sessions and zygote supervisors, all forked from here
    pending = b""
    wake_r, wake_w = processes.wake_on_child_exit()  # a session's end is reported at once
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
                request = cast(SessionRequest, json.loads(line))
                pid = os.fork()
                if pid == 0:
                    processes.forget_child_exit((wake_r, wake_w))
                    listener.close()
                    _run_session(request, control)
                children.add(pid)
                started: SessionStarted = {"id": request["id"], "pid": pid}
                out.write(json.dumps(started) + "\n")
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            children.discard(pid)
            ended: SessionEnded = {"pid": pid, "code": os.waitstatus_to_exitcode(status)}
            out.write(json.dumps(ended) + "\n")
    for pid in children:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    shutil.rmtree(private, ignore_errors=True)


def _serve_zygote_request(listener: socket.socket, children: set[int], sandboxed: bool,
                          close: tuple[int, ...]) -> None:
    """A session asks for its submission's zygote: fork it from this warm process."""
    conn, _ = listener.accept()
    with conn:
        try:
            conn.settimeout(10)
            data, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
            request = cast(ZygoteForkRequest, json.loads(data))
            if not fds:
                raise ValueError("no control socket was passed")
            pid = zygote_server.start_forked(
                Path(request["zygote"]), int(request["uid"]), fds[0], sandboxed,
                close=(*close, listener.fileno(), conn.fileno()), course=Path(request["course"]))
            os.close(fds[0])
            children.add(pid)
            pidfd = os.pidfd_open(pid)
            reply: ZygoteForkReply = {"pid": pid}
            socket.send_fds(conn, [json.dumps(reply).encode()], [pidfd])
            os.close(pidfd)
        except Exception as exc:  # any failure is this request's: the server serves on
            with contextlib.suppress(OSError):
                conn.send(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())


if __name__ == "__main__":
    serve()
