"""One sandboxed fork server per submission: children start in milliseconds.

Why: every graded test of exercises 3 and 4 starts the student's app in a
fresh child, and a fresh ``python`` that imports nexios and uvicorn (behind
``unshare`` and ``setpriv``) took half a second, most of a test's time. A
:class:`Zygote` is started once per submission through the full sandbox
(:func:`day25.course.sandbox.processes.spawn`: namespaces, its own uid, rlimits),
imports what children need, and then ``fork()``\\ s each child: a child still
gets a fresh process, fresh work directory and fresh state, and never anything
of another student (another student has another zygote, uid and namespaces).

The zygote never imports submission code; only its forked children do. The
wire is a ``SOCK_SEQPACKET`` socket on the zygote's fd 0: the grader sends
``{"argv", "cwd", "limits"}`` with the child's stdin, stdout and stderr pipe
ends attached (``SCM_RIGHTS``); the zygote answers ``{"pid"}`` with a pidfd of
the child attached, and later ``{"exit": pid, "code": ...}``. ``{"kill": pid}``
kills that child's process group and whatever is left of its session.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import json
import os
import resource
import select
import signal
import socket
import subprocess
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

__all__ = ["ForkedChild", "Zygote"]

_PRELOAD = ("asyncio", "json", "sqlite3", "uvicorn", "uvicorn.config", "uvicorn.server",
            "uvicorn.protocols.websockets.websockets_impl", "uvicorn.protocols.http.h11_impl",
            "uvicorn.lifespan.on", "uvicorn.loops.asyncio", "uvicorn.protocols.websockets.auto",
            "anyio._backends._asyncio", "nexios", "nexios.websockets",
            "websockets", "day25", "day25.course.inside", "day25.course.inside.scenarios")
_LIMITS = {"cpu_seconds": resource.RLIMIT_CPU, "address_space": resource.RLIMIT_AS,
           "processes": resource.RLIMIT_NPROC, "file_size": resource.RLIMIT_FSIZE,
           "open_files": resource.RLIMIT_NOFILE}


# -- inside the sandbox ---------------------------------------------------------------
def _become_child(control: socket.socket, request: dict[str, Any], fds: list[int]) -> None:
    """In the forked process: become ``python -m day25.course.inside <argv>``."""
    try:
        control.close()
        from day25.course.sandbox.processes import _die_with_parent

        _die_with_parent()
        os.setsid()
        for index, fd in enumerate(fds):
            os.dup2(fd, index)
        for fd in fds:
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        for name, value in (request.get("limits") or {}).items():
            which = _LIMITS.get(name)
            if which is not None and value is not None:
                _soft, hard = resource.getrlimit(which)
                if hard != resource.RLIM_INFINITY:
                    value = min(int(value), hard)
                with contextlib.suppress(ValueError, OSError):
                    resource.setrlimit(which, (int(value), int(value)))
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the child's own streams
        sys.stdout = open(1, "w", closefd=False, buffering=1)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False, buffering=1)  # noqa: SIM115
        from day25.course.inside.__main__ import main

        sys.argv = ["day25.course.inside", *request["argv"]]
        main(list(request["argv"]))
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
    """Import what every child needs, once (a warm process forks them ready)."""
    with warnings.catch_warnings():  # e.g. uvicorn's deprecation notices: not the grader's
        warnings.simplefilter("ignore")
        for name in _PRELOAD:
            with contextlib.suppress(Exception):
                importlib.import_module(name)
    gc.freeze()  # children's collections skip the preloaded modules


def serve(control_fd: int = 0) -> None:
    """The zygote: fork children on request until the grader hangs up (``control_fd``)."""
    from day25.course.sandbox.processes import forget_child_exit, kill_session, wake_on_child_exit

    preload()
    control = socket.socket(fileno=os.dup(control_fd))
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, control_fd)
    os.close(devnull)
    children: set[int] = set()
    wake_r, wake_w = wake_on_child_exit()  # an exit is reported at once
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
            if "kill" in request:
                kill_session(int(request["kill"]))
                continue
            pid = os.fork()
            if pid == 0:
                forget_child_exit((wake_r, wake_w))
                _become_child(control, request, fds)
            for fd in fds:
                os.close(fd)
            children.add(pid)
            pidfd = os.pidfd_open(pid)
            socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [pidfd])
            os.close(pidfd)
        while True:  # reap children and, as a namespace's init, any orphan
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid in children:
                children.discard(pid)
                code = os.waitstatus_to_exitcode(status)
                with contextlib.suppress(OSError):
                    control.send(json.dumps({"exit": pid, "code": code}).encode())
    for pid in children:
        kill_session(pid)


# -- the grader's side ------------------------------------------------------------------
class ForkedChild:
    """A zygote's child, with the part of :class:`subprocess.Popen` the harness uses."""

    def __init__(self, zygote: Zygote, pid: int, pidfd: int, streams: tuple[Any, Any, Any]) -> None:
        self.zygote = zygote
        self.pid = pid  # in the zygote's PID namespace: signal it through the pidfd
        self._pidfd = pidfd
        self.stdin, self.stdout, self.stderr = streams
        self.returncode: int | None = None
        self._exited = threading.Event()

    def _set_exit(self, code: int) -> None:
        self.returncode = code
        self._exited.set()
        with contextlib.suppress(OSError):
            os.close(self._pidfd)
        self._pidfd = -1

    def poll(self) -> int | None:
        if self.returncode is None and not self.zygote.alive():
            self._set_exit(-signal.SIGKILL)  # the namespace died with its zygote
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if not self._exited.wait(timeout) and self.poll() is None:
            raise subprocess.TimeoutExpired("day25 child", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill_tree(self, wait: float = 5.0) -> None:
        """SIGKILL the child at once (pidfd), then have the zygote sweep its session."""
        if self.returncode is None and self._pidfd >= 0:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
        self.zygote.sweep(self.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.wait(wait)
        for stream in (self.stdin, self.stdout, self.stderr):
            with contextlib.suppress(OSError):
                stream.close()


class Zygote:
    """The grader's handle on one submission's fork server (see the module docstring)."""

    def __init__(self, workdir: Path, *, startup_timeout: float = 30.0) -> None:
        self.workdir = workdir
        self.startup_timeout = startup_timeout
        self._lock = threading.Lock()
        self._spawn_lock = threading.Lock()  # one request in flight: replies come in order
        self._cond = threading.Condition(self._lock)
        self.zygotes_started = 0
        self._start()

    def _start(self) -> None:
        """(Re)start the zygote process; a dead one's children died with it."""
        from day25.course.sandbox import namespaces, processes

        self.uid = namespaces.child_uid()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control = ours
        self._early_exits: dict[int, int] = {}  # exits read before their spawn() returned
        self._replies: list[tuple[dict[str, Any], int]] = []
        self._children: dict[int, ForkedChild] = {}
        from day25.course.sandbox.forked_zygote import FORKS_ENV, Pidfd, fork_zygote

        forks = os.environ.get(FORKS_ENV)
        self.proc: subprocess.Popen[bytes] | Pidfd
        if forks:
            if namespaces.hardened():
                namespaces.prepare([self.workdir], self.uid)
            self.proc = fork_zygote(forks, theirs, self.workdir, self.uid)
        else:
            self.proc = processes.spawn(["python", "-m", "day25.course.sandbox.zygote"],
                                        cwd=self.workdir, stdin=theirs.fileno(),
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        uid=self.uid)
        theirs.close()
        self.zygotes_started += 1
        threading.Thread(target=self._read, args=(ours,), daemon=True).start()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self, control: socket.socket) -> None:
        while True:
            try:
                data, fds, _flags, _addr = socket.recv_fds(control, 65536, 1)
            except OSError:
                data, fds = b"", []
            if not data:
                break
            msg = json.loads(data)
            with self._cond:
                if "exit" in msg:
                    child = self._children.pop(int(msg["exit"]), None)
                    if child is not None:
                        child._set_exit(int(msg["code"]))
                    else:
                        self._early_exits[int(msg["exit"])] = int(msg["code"])
                else:
                    self._replies.append((msg, fds[0] if fds else -1))
                self._cond.notify_all()
        with self._cond:
            if control is self._control:  # not a replaced zygote's leftovers
                for child in self._children.values():
                    child._set_exit(-signal.SIGKILL)
                self._children.clear()
            self._cond.notify_all()

    def spawn(self, argv: list[str], *, cwd: Path, limits: dict[str, int | None] | None = None
              ) -> ForkedChild:
        """Fork a child running ``python -m day25.course.inside *argv`` in ``cwd``."""
        from day25.course.sandbox import namespaces

        with self._spawn_lock:
            if not self.alive():
                self.close()
                self._start()
        if namespaces.hardened():
            paths = [Path(a) for a in argv if a.startswith("/")]
            namespaces.prepare([cwd, *(p if p.is_dir() else p.parent for p in paths)], self.uid)
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        request = json.dumps({"argv": argv, "cwd": str(cwd), "limits": limits or {}}).encode()
        with self._spawn_lock, self._cond:
            try:
                socket.send_fds(self._control, [request], [r_in, w_out, w_err])
            finally:
                for fd in (r_in, w_out, w_err):
                    os.close(fd)
            if not self._cond.wait_for(lambda: bool(self._replies) or not self.alive(),
                                       timeout=self.startup_timeout) or not self._replies:
                for fd in (w_in, r_out, r_err):
                    os.close(fd)
                raise OSError("the submission's fork server did not answer")
            msg, pidfd = self._replies.pop(0)
            streams = (os.fdopen(w_in, "wb"), os.fdopen(r_out, "rb"), os.fdopen(r_err, "rb"))
            child = ForkedChild(self, int(msg["pid"]), pidfd, streams)
            if child.pid in self._early_exits:
                child._set_exit(self._early_exits.pop(child.pid))
            else:
                self._children[child.pid] = child
            return child

    def sweep(self, pid: int) -> None:
        with contextlib.suppress(OSError):
            self._control.send(json.dumps({"kill": pid}).encode())

    def close(self) -> None:
        """Hang up and kill the zygote: in its PID namespace, every child dies with it."""
        from day25.course.sandbox import processes

        with self._cond:
            children = list(self._children.values())
        for child in children:
            child.kill_tree(wait=1.0)
        with contextlib.suppress(OSError):
            self._control.close()
        if isinstance(self.proc, subprocess.Popen):
            processes.kill_tree(self.proc)
        else:
            self.proc.kill()


if __name__ == "__main__":
    serve()
