"""Start a submission's child process with a scrubbed environment and rlimits.

Why: the grading process never runs submission code itself; it starts a child
through :func:`spawn`, and a child that misbehaves (a fork bomb, a memory bomb,
an endless loop, a flood of output files) hits a limit instead of the machine.

The API is deliberately small, so it can be hardened later (network and mount
namespaces, dropping privileges) without touching its callers:

``spawn(argv, *, cwd, env=None, limits=Limits(), stdin=PIPE, stdout=PIPE, stderr=PIPE)``
    Start ``argv`` in ``cwd`` as the leader of a new session (its own process
    group), with only the variables of :func:`scrubbed_env` plus ``env``, and
    the rlimits of ``limits`` applied in the child before ``exec``.
    Returns the :class:`subprocess.Popen`.

``kill_tree(proc)``
    Kill the child's whole process group (SIGKILL) and reap the child. Safe to
    call twice and on a child that already exited.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from day25.course.sandbox import namespaces

__all__ = ["Limits", "forget_child_exit", "kill_session", "kill_tree", "scrubbed_env", "spawn",
           "wake_on_child_exit"]

_GIB = 1024**3


@dataclass(frozen=True)
class Limits:
    """The rlimits a child runs under. ``None`` leaves a limit as inherited."""

    cpu_seconds: int | None = 60
    address_space: int | None = 2 * _GIB
    processes: int | None = 256  # RLIMIT_NPROC counts the user's processes, not ours only
    file_size: int | None = 64 * 1024**2
    open_files: int | None = 256


def _package_root() -> str:
    """The directory that holds the ``day25`` package, for the child's PYTHONPATH."""
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
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PYTHONHASHSEED": "0",
        "PYTHONPATH": _package_root(),
    }
    if extra:
        env.update(extra)
    return env


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this child when the process that spawned it dies.

    Without it, a grading pytest killed by its timeout leaves its sandboxed
    children running for ever: they sit in their own session (and, isolated,
    their own PID namespace), out of reach of the killpg aimed at pytest.
    (The signal is tied to the spawning *thread*; the harness spawns from the
    test's main thread, which lives as long as the process.)
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _set_limits(limits: Limits | None) -> Callable[[], None]:
    if limits is None:
        return _die_with_parent
    pairs = [
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_AS, limits.address_space),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_size),
        (resource.RLIMIT_NOFILE, limits.open_files),
    ]

    def apply() -> None:  # runs in the child between fork and exec
        _die_with_parent()
        for which, value in pairs:
            if value is None:
                continue
            _soft, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY and hard < value:
                value = hard
            with contextlib.suppress(ValueError, OSError):  # a limit we may not set is left
                resource.setrlimit(which, (value, value))

    return apply


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
        argv[0] = sys.executable
    child_env = scrubbed_env(env, home=cwd)
    # namespaces + uid 65534 when root and unshare work; argv unchanged otherwise
    argv = namespaces.wrap(argv, cwd=Path(cwd), env=child_env, uid=uid)
    no_limits = namespaces.mode() == "off"  # only for benchmarks measuring the sandbox's cost
    return subprocess.Popen(
        argv,
        cwd=os.fspath(cwd),
        env=child_env,
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        start_new_session=True,
        close_fds=True,
        preexec_fn=_set_limits(None if no_limits else (limits or Limits())),
    )


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
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()  # after "pid (comm) "
        if len(fields) > 3 and fields[3] == str(sid):
            found.append(int(entry.name))
    return found


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


def kill_tree(proc: subprocess.Popen[bytes], *, wait: float = 5.0) -> None:
    """SIGKILL the child's process group and every process left in its session, then reap.

    The child leads its own session (``start_new_session``), and everything it
    forks stays in that session unless it calls setsid: sweeping the session also
    catches a fork bomb's processes that a single killpg raced past.
    """
    kill_session(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=wait)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
