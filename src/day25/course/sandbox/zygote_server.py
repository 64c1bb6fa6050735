"""The zygote: one sandboxed fork server per submission, so its processes start in milliseconds.

Why: every graded test of exercises 3 and 4 starts the student's app in a
fresh process, and a fresh ``python`` that imports nexios and uvicorn (behind
``bwrap`` and ``setpriv``) took most of a test's time. A zygote starts once
per submission inside the full sandbox (namespaces, its own uid, rlimits),
imports what the inside program needs, and then ``fork()``\\ s each process
the harness asks for: it still gets a fresh process, a fresh work directory and
fresh state, and never anything of another student (another student has
another zygote, uid and namespaces).

It starts one of two ways. Exec'd: ``python -m day25.course.sandbox.zygote_server``
through :func:`day25.course.sandbox.processes.spawn` (``pytest`` run by hand,
and any grading without root: bwrap in a user namespace). Forked: in a graded
batch the warm session server (:mod:`day25.course.grading.session_server`)
already holds those modules, and :func:`serve_fork_request` joins the very same
kind of sandbox without exec (:func:`~day25.course.sandbox.namespaces.enter`: bwrap
builds the view around a holder, the supervisor joins its namespaces), then
forks the zygote into its PID namespace, which drops to the submission's uid
(:func:`~day25.course.sandbox.namespaces.drop_privileges`).

The zygote runs inside the sandbox but never imports submission code: only the
processes it forks do, once they run the module a :class:`SpawnRequest` names
(the inside program). The grader's handle on it is
:class:`day25.course.sandbox.zygote.Zygote`; the wire is wire 3 of
:mod:`day25.course.protocol`.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import runpy
import select
import signal
import socket
import sys
import warnings
from pathlib import Path
from typing import NoReturn, cast

from day25.course.logs import log_nexios_directly
from day25.course.protocol import (
    INSIDE_MODULE,
    ExitNotice,
    SpawnReply,
    SpawnRequest,
    ZygoteForkReply,
    ZygoteForkRequest,
)
from day25.course.sandbox import namespaces, privileges, processes, rlimits

__all__ = ["preload", "serve", "serve_fork_request"]

_PRELOAD = ("asyncio", "json", "sqlite3", "uvicorn", "uvicorn.config", "uvicorn.server",
            "uvicorn.protocols.websockets.websockets_impl", "uvicorn.protocols.http.h11_impl",
            "uvicorn.lifespan.on", "uvicorn.loops.asyncio", "uvicorn.protocols.websockets.auto",
            "anyio._backends._asyncio", "nexios", "nexios.websockets", "websockets", "day25",
            "day25.realtime", "day25.trace",  # what submissions import (`import day25` is lazy)
            INSIDE_MODULE, f"{INSIDE_MODULE}.channel", f"{INSIDE_MODULE}.scenarios",
            f"{INSIDE_MODULE}.apps")


def _run_forked(control: socket.socket, request: SpawnRequest, fds: list[int]) -> None:
    """In the forked process: become ``python -m MODULE *argv``, then exit."""
    try:
        control.close()
        privileges.become_own(os.geteuid())  # the zygote's real uid is not ours: it is safe
        rlimits.die_with_parent()
        os.setsid()
        for index, fd in enumerate(fds):
            os.dup2(fd, index)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        rlimits.lower(request.get("limits") or {})
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's own streams
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
        sys.argv = [request["module"], *request["argv"]]
        runpy.run_module(request["module"], run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    with contextlib.suppress(Exception):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def preload() -> None:
    """Import what every forked process needs, once (a warm process forks them ready).

    nexios is told to log directly first, so it starts no thread: this process
    forks, and a fork is safe only from a process with one thread.
    """
    log_nexios_directly()
    with warnings.catch_warnings():  # e.g. uvicorn's deprecation notices: not the grader's
        warnings.simplefilter("ignore")
        for name in _PRELOAD:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    gc.freeze()  # the forked processes' collections skip the preloaded modules


def serve(control_fd: int = 0) -> None:
    """Fork a process per :class:`SpawnRequest` until the grader hangs up (``control_fd``)."""
    preload()
    control = socket.socket(fileno=os.dup(control_fd))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, control_fd)
    os.close(devnull)
    children: set[int] = set()
    processes.become_subreaper()  # what a killed process left behind comes to us
    wake_r, wake_w = processes.wake_on_child_exit()  # an exit is reported at once
    while True:
        ready, _, _ = select.select([control.fileno(), wake_r], [], [], 1.0)
        if wake_r in ready:
            os.read(wake_r, 4096)
        if control.fileno() in ready:
            try:
                data, fds, _flags, _addr = socket.recv_fds(control, 65536, 3)
            except OSError:
                data, fds = b"", []
            if not data:
                break  # the grader hung up: the namespace dies with us
            request = json.loads(data)
            if "kill" in request:  # a KillRequest
                processes.kill_left_behind(int(request["kill"]), children)
                continue
            pid = os.fork()
            if pid == 0:
                processes.forget_child_exit((wake_r, wake_w))
                _run_forked(control, cast(SpawnRequest, request), fds)
            for fd in fds:
                os.close(fd)
            children.add(pid)
            pidfd = os.pidfd_open(pid)
            reply: SpawnReply = {"pid": pid}
            socket.send_fds(control, [json.dumps(reply).encode()], [pidfd])
            os.close(pidfd)
        while True:  # reap children (and, exec'd without bwrap's init, any orphan)
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in children:
                children.discard(pid)
                code = os.waitstatus_to_exitcode(status)
                notice: ExitNotice = {"exit": pid, "code": code}
                with contextlib.suppress(OSError):
                    control.send(json.dumps(notice).encode())
    for pid in children:
        processes.kill_session(pid)


def serve_fork_request(conn: socket.socket, hardened: bool, *, close: tuple[int, ...] = ()
                       ) -> NoReturn:
    """In a process forked for one zygote request before anyone read it: read it,
    answer with this process's own pid and pidfd, and become its supervisor.

    Why: what a process has read stays in its memory, and every zygote carries the
    memory of the process it was forked from. Forked before the request is read, a
    supervisor (and its zygote) holds this submission's request and nothing else:
    no other student's paths, uids or sessions (:mod:`day25.course.grading.session_server`).
    """
    try:
        conn.settimeout(10)
        data, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
        request = cast(ZygoteForkRequest, json.loads(data))
        if not fds:
            raise ValueError("no control socket was passed")
        pidfd = os.pidfd_open(os.getpid())
        reply: ZygoteForkReply = {"pid": os.getpid()}
        socket.send_fds(conn, [json.dumps(reply).encode()], [pidfd])
        os.close(pidfd)
    except Exception as exc:  # this request's failure: the session is told, nothing else
        with contextlib.suppress(OSError):
            conn.send(json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
        os._exit(1)
    finally:
        conn.close()
    _supervise(Path(request["zygote"]), int(request["uid"]), fds[0], hardened, close=close,
               course=Path(request["course"]))


def _supervise(workdir: Path, uid: int, control_fd: int, hardened: bool, *,
               close: tuple[int, ...], course: Path | None) -> NoReturn:
    """The supervisor, whose child is the sandboxed zygote.

    It joins a fresh view of ``workdir`` that bwrap built
    (:func:`day25.course.sandbox.namespaces.enter`) and forks the zygote into its
    PID namespace; the zygote closes every inherited descriptor, drops to ``uid``
    and serves ``control_fd``. The supervisor waits for it (:func:`_watch`), then
    ends the view's holder, and with it everything left in the PID namespace.
    """
    code = 1
    try:
        processes.forget_child_exit(close)  # and closes the server's own descriptors
        rlimits.die_with_parent()
        os.setsid()
        os.chdir(workdir)
        env = processes.scrubbed_env(home=workdir)
        os.environ.clear()
        os.environ.update(env)
        rlimits.preexec(None if namespaces.mode() == "off" else rlimits.Limits())()
        holder = namespaces.enter(workdir, uid, course=course) if hardened else None
        zygote = os.fork()
        if zygote == 0:
            if hardened:
                control_fd = namespaces.drop_privileges(uid, control_fd)
                os.chdir(workdir)
            serve(control_fd)
            os._exit(0)
        code = _watch(zygote, control_fd)
        if holder is not None:
            holder.close()
    except BaseException:
        import traceback

        traceback.print_exc()
    os._exit(code if code >= 0 else 1)


def _watch(zygote: int, control_fd: int) -> int:
    """Wait for the zygote to exit, and kill it if the grader hangs up first: its exit code.

    Why not just wait: a zygote ends when it reads that the grader hung up, and a
    submission can stop its own zygote (same uid, ``SIGSTOP``), which then never
    reads it. The grader's end closes when its session ends or is cut off; this
    copy of the zygote's end sees that (``POLLHUP``, whatever is still unread), so
    nothing of the submission outlives its session.
    """
    pidfd = os.pidfd_open(zygote)
    watching = select.poll()
    watching.register(pidfd, select.POLLIN)
    watching.register(control_fd, 0)  # only hang-ups (and errors) are reported
    try:
        while True:
            ready = {fd for fd, _ in watching.poll()}
            if pidfd in ready:
                break
            if control_fd in ready:
                signal.pidfd_send_signal(pidfd, signal.SIGKILL)  # it may be stopped
                watching.unregister(control_fd)
    finally:
        os.close(pidfd)
        os.close(control_fd)
    _pid, status = os.waitpid(zygote, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    serve()
