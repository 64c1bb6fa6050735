"""Which runner starts a submission's processes on this machine: sandboxed or portable.

Why two: the sandboxed runner (warm fork servers, zygotes handled through
pidfds, ``SOCK_SEQPACKET`` wires, rlimits, bubblewrap's namespaces) is built
from Linux-only parts. macOS has no pidfds; Windows has no ``fork``, no process
groups, no ``resource`` module and no Unix sockets. There the **portable**
runner starts the very same ``python -m day25.course.inside`` as a plain
subprocess (:func:`day25.course.sandbox.processes.spawn`), each pytest session
as a plain ``python -m pytest`` (:mod:`day25.course.grading.sessions`), and apps
serve on TCP (127.0.0.1, a free port) instead of a Unix socket. The suites, the
harness API, the timeouts and the verdict (read outside the submission's
process) are the same; what is lost is confinement, and
:func:`~day25.course.sandbox.namespaces.describe` says so.

``DAY25_RUNNER`` chooses: ``auto`` (the default: sandboxed when this Python has
everything :func:`missing` looks for), ``sandboxed`` or ``portable`` (so the
portable runner is tested on Linux too).

A :class:`RunnerError` is the runner failing, never the submission: the test it
interrupted says nothing about the code, and ``day25 check`` says that it could
not run the checks on this machine instead of showing a FAIL.
"""

from __future__ import annotations

import os
import signal
import socket

__all__ = ["CANNOT_RUN", "PORTABLE", "RUNNER_ENV", "SANDBOXED", "RunnerError", "advice", "chosen",
           "missing", "portable"]

RUNNER_ENV = "DAY25_RUNNER"
#: how a check the runner could not run is reported, everywhere (``day25 check``, pytest)
CANNOT_RUN = "could not run the checks on this machine"
SANDBOXED = "sandboxed"
PORTABLE = "portable"

#: what the sandboxed runner calls, by module: fork servers (``fork``, sessions and
#: process groups), zygote handles (pidfds), its wires (Unix sockets passing descriptors)
_NEEDS = ((os, ("fork", "setsid", "killpg", "pidfd_open")),
          (signal, ("pidfd_send_signal",)),
          (socket, ("AF_UNIX", "SOCK_SEQPACKET", "send_fds", "recv_fds")))


class RunnerError(Exception):
    """The runner could not start or keep a submission's process (not the submission's
    doing); ``str(err)`` says what failed, for the person at this machine."""


def missing() -> list[str]:
    """What the sandboxed runner needs and this Python lacks (``[]`` on Linux)."""
    lacks = [f"{module.__name__}.{name}" for module, names in _NEEDS for name in names
             if not hasattr(module, name)]
    try:
        import resource  # noqa: F401 - Unix only (rlimits)
    except ImportError:
        lacks.append("the resource module")
    return lacks


def chosen() -> str:
    """:data:`SANDBOXED` or :data:`PORTABLE`, from ``DAY25_RUNNER`` (see the module docstring).

    Raises :class:`RunnerError` for any other value: a typo must not silently pick one.
    """
    value = os.environ.get(RUNNER_ENV, "auto").strip().lower() or "auto"
    if value == "auto":
        return PORTABLE if missing() else SANDBOXED
    if value in (SANDBOXED, PORTABLE):
        return value
    raise RunnerError(f"{RUNNER_ENV}={value!r} is not a runner: use auto, {SANDBOXED} or "
                      f"{PORTABLE} (or unset it)")


def portable() -> bool:
    """Whether the portable runner starts this machine's submission processes."""
    return chosen() == PORTABLE


def advice() -> str:
    """What to do when the runner failed, for the person at this machine."""
    try:
        runner = chosen()
    except RunnerError:
        return f"unset {RUNNER_ENV}, or set it to auto"
    lacks = missing()
    if runner == SANDBOXED and lacks:
        return (f"{RUNNER_ENV}=sandboxed asks for the sandboxed runner, but this Python lacks "
                f"{', '.join(lacks)}: unset {RUNNER_ENV} to use the portable runner")
    if runner == SANDBOXED:
        return (f"set {RUNNER_ENV}=portable to run the checks without the sandbox, and tell "
                "your instructor what this message says")
    return ("this is not about your code: install the course again into the Python you run "
            "(in the course folder: python -m pip install -e .), then, if it persists, tell your "
            "instructor what this message says")
