"""Become a submission's uid for good inside a forked process, leaving nothing behind.

Why without exec: the zygote is forked from the warm session server (root)
and must not re-import nexios; ``setpriv`` would need an exec. What a forked
process carries over from its warm parent is the danger here, so each function
removes one thing: open descriptors (:func:`close_inherited_fds`), the parent's
exec-time environment still in memory (:func:`scrub_exec_environ`), and the
privileges themselves (:func:`drop_to`).
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path

__all__ = ["NOBODY", "become_own", "close_inherited_fds", "drop_to", "scrub_exec_environ"]

NOBODY = 65534  # the group every sandboxed process runs in (nogroup)

_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 24, 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_CAPS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


def _prctl(option: int, arg: int) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    return int(libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0),
                          ctypes.c_ulong(0)))


def close_inherited_fds(keep: int) -> int:
    """Keep stdin, stdout, stderr and ``keep`` (moved to fd 3, returned); close the rest.

    An inherited directory descriptor leads out of any view (``openat(fd,
    "..")`` walks the machine's tree), and a pipe of the warm server's could
    end someone else's sandbox.
    """
    if keep != 3:
        os.dup2(keep, 3, inheritable=False)
    os.closerange(4, os.sysconf("SC_OPEN_MAX"))  # ``keep`` too, if it was above 3
    return 3


def scrub_exec_environ() -> None:
    """Zero the environment strings of the exec that started this (warm) process.

    ``os.environ.clear()`` leaves them in memory, where a forked child's
    ``ctypes`` can read them, and ``/proc/self/environ`` shows them: the warm
    server's environment would be readable by the submission.
    """
    fields = Path("/proc/self/stat").read_bytes().rsplit(b")", 1)[1].split()
    start, end = int(fields[-3]), int(fields[-2])  # env_start, env_end (fields 50 and 51)
    if end > start:
        ctypes.memset(start, 0, end - start)


def drop_to(uid: int, gid: int = NOBODY, *, apart: int | None = None) -> None:
    """No groups, ``gid``/``uid`` for good, no capabilities, no new privileges.

    ``apart``: the real and saved uid instead of ``uid`` (the zygote's). A
    process may signal another only when its uid is the other's real or saved
    uid, so the processes this one forks, once they become ``uid``
    (:func:`become_own`), cannot signal it: a submission cannot kill the fork
    server that runs it. It still acts (files, its children) as ``uid``.
    Checked afterwards in ``/proc/self/status``: any capability left raises.
    The parent-death signal is set again (changing the uid clears it).
    """
    kept = uid if apart is None else apart
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    if _prctl(_PR_SET_NO_NEW_PRIVS, 1) != 0:
        raise OSError(ctypes.get_errno(), "PR_SET_NO_NEW_PRIVS")
    for cap in range(64):
        if _prctl(_PR_CAPBSET_DROP, cap) != 0:
            break  # past the last capability this kernel knows (EINVAL)
    _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL)
    os.setresuid(kept, uid, kept)  # from 0 to non-zero clears the permitted and effective sets
    _prctl(_PR_SET_PDEATHSIG, 9)
    # utf-8, the codec Python has loaded: another would be imported from the standard
    # library, which this uid may not be able to read (LookupError: unknown encoding)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status")
                  .read_text(encoding="utf-8", errors="replace").splitlines()
                  if line.startswith("Cap"))
    left = {name: status[name].strip() for name in _CAPS if int(status.get(name, "0"), 16)}
    if left or os.getresuid() != (kept, uid, kept) or os.getgroups():
        raise OSError(f"privileges left after dropping to uid {uid}: {left or os.getresuid()}")


def become_own(uid: int) -> None:
    """In a process forked by a zygote dropped ``apart``: ``uid`` as real, effective and
    saved uid (allowed: it is the effective one), so nothing it runs can signal its parent."""
    if os.getresuid() != (uid, uid, uid):
        os.setresuid(uid, uid, uid)
        if os.getresuid() != (uid, uid, uid):
            raise OSError(f"could not become uid {uid}: {os.getresuid()}")
