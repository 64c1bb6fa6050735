"""A submission's zygote forked from the warm session server: no exec, no second import.

Why: exec'ing ``unshare``, ``sh``, ``setpriv`` and a ``python`` that imports
nexios and uvicorn again cost every submission about a second of CPU. The
session server (:mod:`day25.course.grading.sessions`) already holds those modules; on
a grading session's request it forks a supervisor here, which enters the very
same sandbox without exec (:func:`day25.course.sandbox.namespaces.enter`: new mount and
network namespaces, the masked, read-only view) and forks the zygote as the
init of a new PID namespace, which drops to the submission's uid
(:func:`day25.course.sandbox.namespaces.drop_privileges`) and serves
:func:`day25.course.sandbox.zygote.serve` on the session's control socket.

Sessions find the server through ``DAY25_ZYGOTE_FORKS`` (a socket in a
directory only the grader can enter); without it (``pytest`` run by hand,
``day25 check`` outside a batch) :class:`~day25.course.sandbox.zygote.Zygote` execs
through :func:`day25.course.sandbox.processes.spawn` as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
from pathlib import Path

__all__ = ["FORKS_ENV", "Pidfd", "fork_zygote", "start_forked"]

FORKS_ENV = "DAY25_ZYGOTE_FORKS"  # the session server's socket, set in grading sessions


def start_forked(
    workdir: Path, uid: int, control_fd: int, sandboxed: bool, *, close: tuple[int, ...] = (),
    course: Path | None = None,
) -> int:
    """In the session server: fork a supervisor whose child is the sandboxed zygote.

    Returns the supervisor's pid. The supervisor enters the namespaces
    (:func:`day25.course.sandbox.namespaces.enter`), forks the zygote as its new PID
    namespace's init, which drops to ``uid`` and serves ``control_fd``.
    """
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        from day25.course.sandbox import namespaces, processes

        processes.forget_child_exit(close)  # and closes the server's own descriptors

        processes._die_with_parent()
        os.setsid()
        os.chdir(workdir)
        env = processes.scrubbed_env(home=workdir)
        os.environ.clear()
        os.environ.update(env)
        processes._set_limits(None if namespaces.mode() == "off" else processes.Limits())()
        if sandboxed:
            namespaces.enter(workdir, uid, [str(workdir), *env.values()], root=course)
        init = os.fork()
        if init == 0:
            if sandboxed:
                namespaces.drop_privileges(uid)
            from day25.course.sandbox.zygote import serve

            serve(control_fd)
            os._exit(0)
        os.close(control_fd)
        _pid, status = os.waitpid(init, 0)
        code = os.waitstatus_to_exitcode(status)
    except BaseException:
        import traceback

        traceback.print_exc()
    os._exit(code if code >= 0 else 1)


class Pidfd:
    """A process that is not our child (the session server's), watched through a pidfd."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid, self._pidfd = pid, pidfd
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self._pidfd >= 0:
            ready, _, _ = select.select([self._pidfd], [], [], 0)
            if ready:
                self.returncode = -signal.SIGKILL  # gone; its exit status is its parent's
        return self.returncode

    def kill(self) -> None:
        if self._pidfd >= 0:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            select.select([self._pidfd], [], [], 5)
            os.close(self._pidfd)
            self._pidfd = -1
        self.returncode = self.returncode if self.returncode is not None else -signal.SIGKILL


def fork_zygote(path: str, control: socket.socket, workdir: Path, uid: int) -> Pidfd:
    """Ask the session server at ``path`` for a zygote serving ``control``."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as link:
        link.settimeout(30)
        link.connect(path)
        from day25.course.sandbox.namespaces import course_root

        request = {"zygote": str(workdir), "uid": uid, "course": str(course_root())}
        socket.send_fds(link, [json.dumps(request).encode()], [control.fileno()])
        data, fds, _flags, _addr = socket.recv_fds(link, 4096, 1)
    reply = json.loads(data) if data else {}
    if "pid" not in reply or not fds:
        raise OSError(f"the session server could not start a zygote: {reply.get('error')}")
    return Pidfd(int(reply["pid"]), fds[0])
