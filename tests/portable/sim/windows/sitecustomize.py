"""Simulated Windows: this Linux Python without the APIs Windows does not have.

On PYTHONPATH, every Python process of a test (``day25 check``, its pytest
session, every inside process, a notebook's kernel) starts without them: no
``fork``, process groups, sessions, uids, pidfds or POSIX-only signals, no
``resource``, ``fcntl``, ``pwd``, ``grp`` or ``termios`` modules, and no Unix
sockets (``socket.AF_UNIX``). Where the standard library itself takes another
road on Windows, that road is patched in below, marked "Windows does ...".
What cannot be removed from a running Linux is listed, not simulated:
``/proc``, ``sys.platform == "linux"``, ``/`` as the path separator.
"""

import os
import signal
import socket
import subprocess
import sys

for _module in ("resource", "fcntl", "pwd", "grp", "termios"):
    sys.modules[_module] = None  # type: ignore[assignment]  # `import resource` fails

for _name in ("fork", "forkpty", "killpg", "setsid", "getsid", "setpgid", "getpgid", "setpgrp",
              "setgroups", "setuid", "setgid", "getresuid", "getresgid", "setresuid", "setresgid",
              "pidfd_open", "memfd_create", "eventfd", "sched_getaffinity", "wait3", "wait4"):
    if hasattr(os, _name):
        delattr(os, _name)


def _tripwire(name: str, real):  # type: ignore[no-untyped-def]
    """``os.<name>`` for libraries that choose their Unix code by ``sys.platform`` (which
    stays "linux": platformdirs asks for the uid); from day25's own code, it is missing."""

    def call(*args):  # type: ignore[no-untyped-def]
        caller = sys._getframe(1).f_globals.get("__name__", "")
        if caller == "day25" or caller.startswith("day25."):
            raise AttributeError(f"module 'os' has no attribute {name!r} (simulated Windows)")
        return real(*args)

    return call


for _name in ("getuid", "geteuid", "getgid", "getegid", "getgroups", "sysconf"):
    setattr(os, _name, _tripwire(_name, getattr(os, _name)))

for _name in ("SIGKILL", "SIGCHLD", "SIGHUP", "SIGQUIT", "SIGXCPU", "SIGXFSZ", "SIGALRM",
              "SIGUSR1", "SIGUSR2", "SIGPIPE", "pidfd_send_signal", "setitimer", "alarm",
              "pthread_kill", "pthread_sigmask", "sigwait"):
    if hasattr(signal, _name):
        delattr(signal, _name)

_KILL = 9


def _kill(self: subprocess.Popen) -> None:  # type: ignore[type-arg]
    # Windows does TerminateProcess here; Linux's own Popen.kill names signal.SIGKILL
    self.send_signal(_KILL)


subprocess.Popen.kill = _kill  # type: ignore[method-assign]

_AF_UNIX = socket.AF_UNIX
_real_socketpair = socket.socketpair


def _socketpair(family=None, type=socket.SOCK_STREAM, proto=0):  # type: ignore[no-untyped-def]
    # Windows does build a socketpair (over TCP); asyncio needs one for its self-pipe
    return _real_socketpair(_AF_UNIX if family is None else family, type, proto)


socket.socketpair = _socketpair
del socket.AF_UNIX
socket.__all__.remove("AF_UNIX")  # as on Windows: `from socket import *` has none

# A runner broken on purpose, for the tests: the inside program dies as it starts,
# before any of the submission is imported (as a broken install would make it).
if os.environ.get("DAY25_SIMULATE_BROKEN_INSIDE") and "day25.course.inside" in sys.orig_argv:
    sys.stderr.write("simulated breakage: the inside program cannot start\n")
    os._exit(1)
