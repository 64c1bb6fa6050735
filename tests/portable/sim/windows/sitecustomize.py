"""Simulated Windows: this Linux Python without the APIs Windows does not have.

On PYTHONPATH (absolute: every child process starts in another folder), every
Python process of a test (``day25 check``, its pytest session, every inside
process, a notebook's kernel) starts without them:

* gone for everyone: ``os.fork``, process groups and sessions (``killpg``,
  ``setsid``...), uid changes, pidfds and Unix sockets (``socket.AF_UNIX``);
* gone for day25's own code only (its ``import`` fails, its lookup raises
  AttributeError): the ``resource``, ``fcntl``, ``pwd``, ``grp`` and ``termios``
  modules, the uid functions and the POSIX-only signals (``SIGKILL``,
  ``SIGCHLD``...). Libraries keep them because they choose their Unix or
  Windows code by ``sys.platform``, which stays "linux" here (IPython's kernel
  imports ``resource`` and ``termios`` and names ``SIGKILL``, platformdirs asks
  for the uid, ``subprocess`` kills with ``SIGKILL``); on Windows they take the
  other road.

Where the standard library itself takes another road on Windows, that road is
patched in below, marked "Windows does ...". What cannot be removed from a
running Linux is not simulated: ``/proc``, ``sys.platform``, ``/`` as the path
separator, ``os.kill`` with POSIX signals.
"""

import builtins
import os
import signal
import socket
import subprocess
import sys


def _from_day25() -> bool:
    """Whether the code running an import or a call is day25's own (not a library's)."""
    frame = sys._getframe(2)
    while frame is not None and (frame.f_code.co_filename.startswith("<frozen")
                                 or frame.f_globals.get("__name__") == __name__):
        frame = frame.f_back  # type: ignore[assignment]
    name = frame.f_globals.get("__name__", "") if frame is not None else ""
    return name == "day25" or name.startswith("day25.")


_UNIX_ONLY = ("resource", "fcntl", "pwd", "grp", "termios")
_import = builtins.__import__


def _no_unix_modules(name, globals=None, locals=None, fromlist=(), level=0):  # type: ignore[no-untyped-def]
    """``resource``, ``fcntl``, ``pwd``, ``grp`` and ``termios`` cannot be imported by
    day25's code (see the module docstring for the libraries)."""
    module = globals.get("__name__", "") if globals else ""
    if level == 0 and name.split(".")[0] in _UNIX_ONLY and (
            module == "day25" or module.startswith("day25.")):
        raise ModuleNotFoundError(f"No module named {name!r} (simulated Windows)", name=name)
    return _import(name, globals, locals, fromlist, level)


builtins.__import__ = _no_unix_modules

for _name in ("fork", "forkpty", "killpg", "setsid", "getsid", "setpgid", "getpgid", "setpgrp",
              "setgroups", "setuid", "setgid", "getresuid", "getresgid", "setresuid", "setresgid",
              "pidfd_open", "memfd_create", "eventfd", "sched_getaffinity", "wait3", "wait4"):
    if hasattr(os, _name):
        delattr(os, _name)
# Python 3.13 binds os.process_cpu_count to sched_getaffinity when it exists, and to
# os.cpu_count where it does not (macOS, Windows): bind it as there.
if hasattr(os, "process_cpu_count"):
    os.process_cpu_count = os.cpu_count
if hasattr(signal, "pidfd_send_signal"):
    del signal.pidfd_send_signal


def _hide_from_day25(module, names):  # type: ignore[no-untyped-def]
    """Remove ``names`` from ``module``; a library's lookup still finds them (PEP 562), one
    from day25's own code raises AttributeError, as on Windows (``hasattr`` says False)."""
    kept = {name: getattr(module, name) for name in names if hasattr(module, name)}
    for name in kept:
        delattr(module, name)

    def lookup(name):  # type: ignore[no-untyped-def]
        if name in kept and not _from_day25():
            return kept[name]
        raise AttributeError(f"module {module.__name__!r} has no attribute {name!r}")

    module.__getattr__ = lookup


_hide_from_day25(os, ("getuid", "geteuid", "getgid", "getegid", "getgroups", "sysconf"))
_hide_from_day25(signal, ("SIGKILL", "SIGCHLD", "SIGHUP", "SIGQUIT", "SIGXCPU", "SIGXFSZ",
                          "SIGALRM", "SIGUSR1", "SIGUSR2", "SIGPIPE", "setitimer", "alarm",
                          "pthread_kill", "pthread_sigmask", "sigwait"))

_popen_init = subprocess.Popen.__init__


def _no_preexec_fn(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    # Windows does refuse any preexec_fn (subprocess.py: "not supported on Windows
    # platforms"); for day25's code only, as libraries choose by sys.platform
    if kwargs.get("preexec_fn") is not None and _from_day25():
        raise ValueError("preexec_fn is not supported on Windows platforms")
    _popen_init(self, *args, **kwargs)


subprocess.Popen.__init__ = _no_preexec_fn

_AF_UNIX = socket.AF_UNIX
_real_socketpair = socket.socketpair


def _socketpair(family=None, type=socket.SOCK_STREAM, proto=0):  # type: ignore[no-untyped-def]
    # Windows does build a socketpair (over TCP); asyncio needs one for its self-pipe
    return _real_socketpair(_AF_UNIX if family is None else family, type, proto)


socket.socketpair = _socketpair
# JupyterLab (``day25 start``'s child) is left its Unix sockets: jupyter_server imports
# tornado's bind_unix_socket unless sys.platform says Windows, which it cannot here.
if sys.orig_argv[1:3] != ["-m", "jupyterlab"]:
    del socket.AF_UNIX
    socket.__all__.remove("AF_UNIX")  # as on Windows: `from socket import *` has none

# Windows does write to a pipe or a file in its ANSI code page (cp1252 in Western Europe)
# unless UTF-8 mode is on (PYTHONUTF8=1); a console is UTF-8. On Linux a pipe is UTF-8.
if os.environ.get("PYTHONUTF8") != "1" and "PYTHONIOENCODING" not in os.environ:
    for _stream, _errors in ((sys.stdout, "strict"), (sys.stderr, "backslashreplace")):
        if _stream is not None and not _stream.isatty():
            _stream.reconfigure(encoding="cp1252", errors=_errors)

# A runner broken on purpose, for the tests: the inside program dies as it starts,
# before any of the submission is imported (as a broken install would make it).
if os.environ.get("DAY25_SIMULATE_BROKEN_INSIDE") and "day25.course.inside" in sys.orig_argv:
    sys.stderr.write("simulated breakage: the inside program cannot start\n")
    os._exit(1)
