"""The grader's handle on a submission's zygote, and on the processes it forks.

Why: see :mod:`day25.course.sandbox.zygote_server` (the zygote's own code, run
inside the sandbox). A :class:`Zygote` starts the zygote for one submission,
forked from the session server when a graded batch has one
(``$DAY25_ZYGOTE_FORKS``), else exec'd through
:func:`day25.course.sandbox.processes.spawn`; restarts it when it died; and
asks it for processes. Each comes back as a :class:`ForkedProcess`, which has
the part of :class:`subprocess.Popen` the harness uses.

The wire is a ``SOCK_SEQPACKET`` socket on the zygote's fd 0 (wire 3 of
:mod:`day25.course.protocol`): a :class:`~day25.course.protocol.SpawnRequest`
goes out with the new process's stdin, stdout and stderr pipe ends attached
(``SCM_RIGHTS``); the zygote answers with its pid and a pidfd, and later
with its exit code; a kill request sweeps whatever is left of its session.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

from day25.course.catalogue import find_course_root
from day25.course.protocol import (
    ZYGOTE_FORKS_ENV,
    KillRequest,
    SpawnRequest,
    ZygoteForkRequest,
)
from day25.course.sandbox import namespaces, processes
from day25.course.sandbox.runner import RunnerError

__all__ = ["ZYGOTE_MODULE", "ForkedProcess", "Pidfd", "Zygote"]

ZYGOTE_MODULE = "day25.course.sandbox.zygote_server"  # python -m: the exec'd zygote


class ForkedProcess:
    """A process the zygote forked, with the part of :class:`subprocess.Popen` the harness uses."""

    def __init__(self, zygote: Zygote, pid: int, pidfd: int,
                 streams: tuple[Any, Any, Any]) -> None:
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
            raise subprocess.TimeoutExpired("day25 forked process", timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill_tree(self, wait: float = 5.0) -> None:
        """SIGKILL the process at once (pidfd), then have the zygote sweep its session."""
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
        """(Re)start the zygote process; a dead one's processes died with it."""
        self.uid = namespaces.sandbox_uid()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._control = ours
        self._hung_up = False  # the zygote's end of the control socket closed: it is going
        self._early_exits: dict[int, int] = {}  # exits read before their spawn() returned
        self._replies: list[tuple[dict[str, Any], int]] = []
        self._processes: dict[int, ForkedProcess] = {}
        self._prepared: set[Path] = set()
        # the zygote's folder stays the grader's: the submission may only enter it and
        # write in the folders handed to it (a folder of its own would let it swap a
        # fresh one for a symlink before the grader copies into it)
        self.workdir.chmod(0o711)
        forks = os.environ.get(ZYGOTE_FORKS_ENV)
        self.proc: subprocess.Popen[bytes] | Pidfd
        try:
            if forks:
                self.proc = _fork_zygote(forks, theirs, self.workdir, self.uid)
            else:
                self.proc = processes.spawn(["python", "-m", ZYGOTE_MODULE],
                                            cwd=self.workdir, stdin=theirs.fileno(),
                                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                            uid=self.uid)
        except (OSError, AttributeError, ValueError) as exc:  # AttributeError: no pidfds here
            ours.close()
            raise RunnerError(f"the sandbox's fork server (zygote) could not start: "
                              f"{type(exc).__name__}: {exc}") from exc
        finally:
            theirs.close()
        self.zygotes_started += 1
        threading.Thread(target=self._read, args=(ours,), daemon=True).start()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def new_workdir(self) -> Path:
        """A fresh folder for one client's copy and processes, inside the zygote's
        own: nothing outside it exists in the zygote's view."""
        return Path(tempfile.mkdtemp(prefix="c", dir=self.workdir))

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
                if "exit" in msg:  # an ExitNotice
                    process = self._processes.pop(int(msg["exit"]), None)
                    if process is not None:
                        process._set_exit(int(msg["code"]))
                    else:
                        self._early_exits[int(msg["exit"])] = int(msg["code"])
                else:
                    self._replies.append((msg, fds[0] if fds else -1))
                self._cond.notify_all()
        with self._cond:
            if control is self._control:  # not a replaced zygote's leftovers
                self._hung_up = True
                for process in self._processes.values():
                    process._set_exit(-signal.SIGKILL)
                self._processes.clear()
            self._cond.notify_all()

    def spawn(self, module: str, argv: list[str], *, cwd: Path,
              limits: dict[str, int | None] | None = None) -> ForkedProcess:
        """Fork a process running ``python -m MODULE *argv`` in ``cwd``."""
        with self._spawn_lock:
            if not self.alive() or self._hung_up:
                self.close()
                self._start()
        if namespaces.isolation() == "root" and cwd not in self._prepared:
            # handed over once, before anything of the submission ran in it
            namespaces.prepare([cwd], self.uid)
            self._prepared.add(cwd)
        r_in, w_in = os.pipe()
        r_out, w_out = os.pipe()
        r_err, w_err = os.pipe()
        request: SpawnRequest = {"module": module, "argv": argv, "cwd": str(cwd),
                                 "limits": limits or {}}
        with self._spawn_lock, self._cond:
            try:
                socket.send_fds(self._control, [json.dumps(request).encode()], [r_in, w_out, w_err])
            finally:
                for fd in (r_in, w_out, w_err):
                    os.close(fd)
            # Why the hang-up too: a zygote that dies as it starts closes its end before
            # its supervisor exits, and nothing would wake this wait once that exit came
            if not self._cond.wait_for(
                    lambda: bool(self._replies) or self._hung_up or not self.alive(),
                    timeout=self.startup_timeout) or not self._replies:
                for fd in (w_in, r_out, r_err):
                    os.close(fd)
                raise RunnerError("the sandbox's fork server (zygote) did not answer: it "
                                  "stopped or could not fork")
            msg, pidfd = self._replies.pop(0)
            streams = (os.fdopen(w_in, "wb"), os.fdopen(r_out, "rb"), os.fdopen(r_err, "rb"))
            process = ForkedProcess(self, int(msg["pid"]), pidfd, streams)
            if process.pid in self._early_exits:
                process._set_exit(self._early_exits.pop(process.pid))
            else:
                self._processes[process.pid] = process
            return process

    def sweep(self, pid: int) -> None:
        """Kill what is left of process ``pid``'s session (it may have forked and setsid'd)."""
        request: KillRequest = {"kill": pid}
        with contextlib.suppress(OSError):
            self._control.send(json.dumps(request).encode())

    def close(self) -> None:
        """Hang up and kill the zygote: in its PID namespace, every process dies with it."""
        with self._cond:
            forked = list(self._processes.values())
        for process in forked:
            process.kill_tree(wait=1.0)
        with contextlib.suppress(OSError):
            self._control.close()
        if isinstance(self.proc, subprocess.Popen):
            processes.kill_tree(self.proc)
        else:
            self.proc.kill()



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


def _fork_zygote(path: str, control: socket.socket, workdir: Path, uid: int) -> Pidfd:
    """Ask the session server at ``path`` for a zygote serving ``control`` (wire 2)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as link:
        link.settimeout(30)
        link.connect(path)
        request: ZygoteForkRequest = {"zygote": str(workdir), "uid": uid,
                                      "course": str(find_course_root())}
        socket.send_fds(link, [json.dumps(request).encode()], [control.fileno()])
        data, fds, _flags, _addr = socket.recv_fds(link, 4096, 1)
    reply = json.loads(data) if data else {}
    if "pid" not in reply or not fds:
        why = reply.get("error") or "it hung up (it stopped)"
        raise OSError(f"the session server could not start a zygote: {why}")
    return Pidfd(int(reply["pid"]), fds[0])
