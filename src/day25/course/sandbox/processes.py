"""Start a sandboxed process and end it with everything it started.

Why: the grading process never runs submission code itself; it starts a
process through :func:`spawn` (or forks one from a zygote, see
:mod:`day25.course.sandbox.zygote`), and a process that misbehaves hits a
limit (:mod:`~day25.course.sandbox.rlimits`) inside its view of the
filesystem (:mod:`~day25.course.sandbox.namespaces`) instead of the machine.

``spawn(argv, *, cwd, env=None, limits=Limits(), stdin=PIPE, stdout=PIPE, stderr=PIPE)``
    Start ``argv`` in ``cwd`` as the leader of a new session (its own process
    group), with only the variables of :func:`scrubbed_env` plus ``env``, and
    the rlimits of ``limits`` applied before ``exec``.
    Returns the :class:`subprocess.Popen`.

``kill_tree(proc)``
    Kill the process's whole session (SIGKILL) and reap it. Safe to call twice
    and on a process that already exited.

With the portable runner (:mod:`~day25.course.sandbox.runner`: macOS, Windows)
``spawn`` starts the same argv as a plain subprocess: no view, no rlimits, the
caller's environment (with the variables that make Python behave the same
everywhere), its own process group where the system has them; ``kill_tree``
ends it with what it started (``taskkill /T`` on Windows).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from day25.course.sandbox import namespaces, runner
from day25.course.sandbox.rlimits import Limits, preexec

__all__ = ["become_subreaper", "forget_child_exit", "kill_left_behind", "kill_session",
           "kill_tree", "own_group", "plain_env",
           "scrubbed_env", "spawn", "wake_on_child_exit"]

#: what makes a Python process behave the same on every system: unbuffered output, no
#: bytecode written into the submission's folder, one hash seed (set and dict orders),
#: UTF-8 for files and streams (Windows' default is its ANSI code page)
_SAME_EVERYWHERE = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONUNBUFFERED": "1",
                    "PYTHONHASHSEED": "0", "PYTHONUTF8": "1"}


def _package_root() -> str:
    """The directory that holds the ``day25`` package, for the sandboxed PYTHONPATH."""
    return str(Path(__file__).resolve().parents[3])


def scrubbed_env(
    extra: Mapping[str, str] | None = None, *, home: str | os.PathLike[str]
) -> dict[str, str]:
    """A minimal environment: nothing of the grader's secrets or settings leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": os.fspath(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        **_SAME_EVERYWHERE,
        "PYTHONPATH": _package_root(),
    }
    if extra:
        env.update(extra)
    return env


def plain_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The portable runner's environment: the caller's (Windows needs its ``SYSTEMROOT``...),
    with the course package first on the path and Python set to behave the same everywhere."""
    path = os.pathsep.join(p for p in (_package_root(), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, **_SAME_EVERYWHERE, "PYTHONPATH": path, **(extra or {})}


def own_group() -> dict[str, Any]:
    """Popen's arguments for a process group of its own, where the system has them."""
    if hasattr(os, "setsid"):
        return {"start_new_session": True}
    if sys.platform == "win32":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {}


def spawn(
    argv: Sequence[str],
    *,
    cwd: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    limits: Limits | None = None,
    stdin: int | None = subprocess.PIPE,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.PIPE,
    uid: int | None = None,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` sandboxed; see the module docstring (``uid``: the one to drop to)."""
    argv = list(argv)
    if argv and argv[0] == "python":
        # -P: the writable cwd never goes first on sys.path (a planted json.py)
        argv[0:1] = [sys.executable, "-P"]
    if runner.portable():
        return subprocess.Popen(argv, cwd=os.fspath(cwd), env=plain_env(env), stdin=stdin,
                                stdout=stdout, stderr=stderr, close_fds=True, **own_group())
    sandbox_env = scrubbed_env(env, home=cwd)
    fds: list[int] = []  # the view's generated files, read by bwrap from these pipes
    try:
        # the allow-list view (bwrap) when namespaces work here; argv unchanged otherwise
        argv = namespaces.wrap(argv, cwd=Path(cwd), uid=uid, fds=fds)
        no_limits = namespaces.mode() == "off"  # only for benchmarks measuring the sandbox
        return subprocess.Popen(
            argv,
            cwd=os.fspath(cwd),
            env=sandbox_env,
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
            close_fds=True,
            pass_fds=fds,
            preexec_fn=preexec(None if no_limits else (limits or Limits())),
        )
    finally:
        for fd in fds:
            os.close(fd)


def wake_on_child_exit() -> tuple[int, int]:
    """A pipe that turns readable whenever a child exits (SIGCHLD), for a ``select`` loop.

    The fork servers (session server, zygote) report an exit the moment it
    happens instead of polling for it.
    """
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    return wake_r, wake_w


def forget_child_exit(pipe: tuple[int, ...]) -> None:
    """In a forked child: undo :func:`wake_on_child_exit` and close the server's ``pipe`` fds."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in pipe:
        with contextlib.suppress(OSError):
            os.close(fd)


def session_members(sid: int) -> list[int]:
    """Every live process whose session id is ``sid`` (Linux ``/proc``; [] elsewhere)."""
    return [row.pid for row in _table() if row.session == sid]


def kill_session(sid: int) -> None:
    """SIGKILL process group ``sid`` and every process left in session ``sid``."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, signal.SIGKILL)
    for _ in range(3):
        members = [pid for pid in session_members(sid) if pid != os.getpid()]
        if not members:
            break
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)


class _Row(NamedTuple):
    """One process of ``/proc``: its state letter, session and live thread count."""

    pid: int
    ppid: int
    state: str
    session: int
    threads: int

    def alive(self) -> bool:
        """Not yet dead: a zombie whose other threads still run counts as alive.

        Why: a process whose main thread ended before its others (SIGKILL reaches
        the threads one by one; a thread may also end alone) shows state Z, yet its
        threads run, and its children keep it as their parent until the last one
        ends: they are not orphans yet.
        """
        return self.state not in "ZX" or self.threads > 1


def _table() -> list[_Row]:
    """Every process in this PID namespace, as ``/proc/<pid>/stat`` shows it."""
    rows = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        # bytes: the name in parentheses is any 15 bytes a process chose (PR_SET_NAME);
        # what follows it is ASCII: state, ppid, pgrp, session, ..., num_threads (the 18th)
        fields = stat[stat.rfind(b")") + 2 :].decode("ascii").split()
        if len(fields) > 17:
            rows.append(_Row(int(entry.name), int(fields[1]), fields[0], int(fields[3]),
                             int(fields[17])))
    return rows


def become_subreaper() -> None:
    """Make processes orphaned below this one its children (not init's): a fork server
    then finds what a killed process left behind (:func:`kill_left_behind`)."""
    import ctypes

    ctypes.CDLL(None).prctl(36, ctypes.c_ulong(1), 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def kill_left_behind(sid: int, mine: set[int], *, within: float = 5.0) -> int:
    """In a subreaper: SIGKILL session ``sid`` and every orphan (a child not in ``mine``,
    the processes it started), until none is left; how many processes it killed.

    Why: a process that calls ``setsid`` leaves the session :func:`kill_session`
    sweeps, and its children keep the killed process's output pipes open, so
    whoever reads them never sees their end. Orphans come to the subreaper when
    their parent dies, generation by generation: the sweep repeats until a pass
    finds none alive (reaping the orphans that died), or ``within`` seconds. A parent
    counts as dead only once its last thread ended (:meth:`_Row.alive`): till then
    its children are not orphans yet.
    """
    me, killed, deadline = os.getpid(), set(), time.monotonic() + within
    while time.monotonic() < deadline:
        alive = False
        for row in _table():
            orphan = row.ppid == me and row.pid not in mine
            if row.pid == me or not (row.session == sid or orphan):
                continue
            if row.alive():
                alive = True
                killed.add(row.pid)
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(row.pid, signal.SIGKILL)
            elif orphan:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(row.pid, os.WNOHANG)  # an orphan that died: reaped here
        if not alive:
            break
        time.sleep(0.005)
    return len(killed)


def kill_tree(proc: subprocess.Popen[bytes], *, wait: float = 5.0) -> None:
    """SIGKILL the process's group and every process left in its session, then reap.

    The process leads its own session (``start_new_session``), and everything it
    forks stays in that session unless it calls setsid: sweeping the session also
    catches a fork bomb's processes that a single killpg raced past. Without process
    groups (Windows), ``taskkill /T`` ends the process's tree.
    """
    if hasattr(os, "killpg"):
        kill_session(proc.pid)
    elif sys.platform == "win32" and proc.poll() is None:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)],
                           capture_output=True, timeout=wait)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=wait)
    _close_pipes(proc)


#: how long :func:`kill_tree` waits for its pipes to close before leaving them to a thread
PIPES_CLOSE_WITHIN = 1.0


def _close_pipes(proc: subprocess.Popen[bytes]) -> None:
    """Close our ends of ``proc``'s pipes, never waiting on a process that is not ``proc``'s.

    Why: closing a buffered pipe first takes the lock that a thread blocked reading it
    holds, and that read ends only when every process holding the pipe's other end has
    ended. A process started detached (``setsid``) by the code under test holds it too,
    and only the sandboxed runner's sweep reaches one: under the portable runner
    (macOS, Windows) it may hold the pipe for minutes, and ``day25 check`` waited that
    long, then failed a correct test on its timeout. A close that has not finished within
    :data:`PIPES_CLOSE_WITHIN` s finishes in the background, when that process ends.
    """
    streams = [stream for stream in (proc.stdin, proc.stdout, proc.stderr) if stream is not None]

    def close() -> None:
        for stream in streams:
            with contextlib.suppress(OSError):
                stream.close()

    closer = threading.Thread(target=close, name=f"day25-close-pipes-{proc.pid}", daemon=True)
    closer.start()
    closer.join(PIPES_CLOSE_WITHIN)
