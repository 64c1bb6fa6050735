"""The resource limits every sandboxed process runs under.

Why: a submission that misbehaves (a fork bomb, a memory bomb, an endless
loop, a flood of output files) must hit a limit instead of the machine. The
limits are applied in the new process before it runs anything of the
submission: between ``fork`` and ``exec`` (:func:`preexec`) or, in a process
forked by the zygote, before it becomes the inside program (:func:`lower`).

``resource`` is imported where a limit is set, not here: Windows has no such
module, and a student's machine imports :class:`Limits` (the harness's
signatures name it) without ever setting one (the portable runner).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

__all__ = ["RLIMITS", "Limits", "die_with_parent", "lower", "preexec"]

_GIB = 1024**3

#: a :class:`Limits` field -> the name of the rlimit it sets (in :mod:`resource`)
RLIMITS = {"cpu_seconds": "RLIMIT_CPU", "address_space": "RLIMIT_AS",
           "processes": "RLIMIT_NPROC", "file_size": "RLIMIT_FSIZE",
           "open_files": "RLIMIT_NOFILE"}


@dataclass(frozen=True)
class Limits:
    """The rlimits a sandboxed process runs under. ``None`` leaves a limit as inherited."""

    cpu_seconds: int | None = 60
    address_space: int | None = 2 * _GIB
    processes: int | None = 256  # RLIMIT_NPROC counts the user's processes, not ours only
    file_size: int | None = 64 * 1024**2
    open_files: int | None = 256


_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when the process that spawned it dies.

    Without it, a grading pytest killed by its timeout leaves its sandboxed
    processes running for ever: they sit in their own session (and, isolated,
    their own PID namespace), out of reach of the killpg aimed at pytest.
    (The signal is tied to the spawning *thread*; the harness spawns from the
    test's main thread, which lives as long as the process.)
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def lower(limits: Mapping[str, int | None]) -> None:
    """Set this process's rlimits (a :class:`Limits` as a dict; unknown names are ignored).

    A value above the hard limit becomes the hard limit; a limit the process may
    not set is left as it is.
    """
    if not limits:
        return
    import resource

    for name, value in limits.items():
        which = getattr(resource, RLIMITS.get(name, ""), None)
        if which is None or value is None:
            continue
        _soft, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(int(value), hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(which, (int(value), int(value)))


def preexec(limits: Limits | None) -> Callable[[], None]:
    """What runs in a new process between fork and exec: die with the parent, then
    lower the rlimits (none when ``limits`` is None)."""
    named = asdict(limits) if limits is not None else {}
    if named:
        import resource  # noqa: F401 - here, in the parent: never imported between fork and exec

    def apply() -> None:
        die_with_parent()
        lower(named)

    return apply
