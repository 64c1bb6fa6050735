"""Which sandbox this machine gives a submission, and how a process gets into it.

Why: rlimits stop a runaway process, but not one that reads other students'
work, the hidden tests or the grader's files, or opens a connection. When
bubblewrap can make namespaces here, a sandboxed process sees only its
allow-list (:mod:`day25.course.sandbox.view`), has no network but its own
loopback, its own PID, IPC and UTS namespaces, and, when the grader is root,
an unprivileged uid of its own. Anything else falls back to rlimits only, and
:func:`describe` says so in plain words, so nobody believes a sandbox is there
when it is not.

* :func:`isolation`: ``"root"`` (bwrap as root, the process drops to a uid of
  its own), ``"user"`` (bwrap in a user namespace, the caller's own uid: a
  student's laptop) or ``None``.
* :func:`wrap`: the exec path (``processes.spawn``).
* :func:`enter` and :func:`drop_privileges`: the fork path (a zygote forked by
  the warm session server joins a view bwrap built, see
  :class:`~day25.course.sandbox.bwrap.Holder`).

``DAY25_SANDBOX`` chooses: ``auto`` (default: namespaces when possible),
``rlimits`` (never namespaces), ``off`` (no namespaces and no rlimits; only for
measuring the sandbox's cost in ``benchmarks/grade.py``). The portable runner
(:mod:`~day25.course.sandbox.runner`: macOS, Windows) gives no sandbox at all.
"""

from __future__ import annotations

import functools
import os
import secrets
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from day25.course.catalogue import CatalogueError, find_course_root
from day25.course.sandbox import bwrap, privileges, runner, view

__all__ = ["NOBODY", "describe", "drop_privileges", "enter", "forks_zygotes", "hardened",
           "isolation", "mode", "prepare", "sandbox_uid", "sandbox_view", "unsafe_here", "warm",
           "wrap", "zygote_uid"]

NOBODY = privileges.NOBODY
_UIDS = (100_000, 160_000)  # uids with no account, one per sandbox


def sandbox_uid() -> int:
    """A fresh unprivileged uid for one sandbox (a zygote and what it forks, or one process).

    Why not 65534 for all: RLIMIT_NPROC counts processes per uid, so sandboxes
    sharing one uid would let one student's fork bomb starve another student's
    processes graded in parallel. A uid of its own confines the bomb to itself.
    """
    return secrets.randbelow(_UIDS[1] - _UIDS[0]) + _UIDS[0]


def mode() -> str:
    """``auto``, ``rlimits`` or ``off``, from ``DAY25_SANDBOX``."""
    value = os.environ.get("DAY25_SANDBOX", "auto").strip().lower()
    return value if value in {"auto", "rlimits", "off"} else "auto"


def _root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0  # Windows has no uids


@functools.cache
def _isolation() -> str | None:
    if not sys.platform.startswith("linux") or runner.missing():
        return None  # what builds and joins the views is Linux's (and the sandboxed runner's)
    root = _root()
    if root:
        try:
            view.tool("setpriv")  # root's exec'd processes drop to their uid with it
        except FileNotFoundError:
            return None
    return ("root" if root else "user") if bwrap.available(root) else None


def isolation() -> str | None:
    """``"root"``, ``"user"`` or ``None`` (rlimits only, or the portable runner's nothing):
    see the module docstring."""
    return _isolation() if mode() == "auto" and not runner.portable() else None


def hardened() -> bool:
    """Whether sandboxed processes see only their allow-list (namespaces work here)."""
    return isolation() is not None


def forks_zygotes() -> bool:
    """Whether the session server may fork zygotes: not in a user namespace's sandbox,
    which a forked process could only join with privileges the caller lacks."""
    return isolation() != "user"


def _as_root_unconfined() -> bool:
    """The sandboxed runner as root with rlimits only: a submission runs as root."""
    return _root() and mode() != "off" and not runner.portable() and isolation() is None


def unsafe_here(students: int) -> str:
    """Why grading ``students`` here without ``--unsafe-shared-filesystem`` is refused, or
    "" when it is not.

    Why root apart: the uid a submission drops to needs the namespaces' view to reach the
    interpreter (a home folder such as ``/root`` is closed to other users), so without
    namespaces a root grader's submission runs as root. Then ``os.kill(-1, 9)`` ends every
    process on the machine and no rlimit holds a fork bomb (the course's own hostile suite
    did that to its machine, in a chroot where bubblewrap cannot make namespaces), even
    for a class of one."""
    if _as_root_unconfined():
        return ("refusing to grade as root without namespaces: each submission would run "
                "as root, and could change any file and stop every process on this machine "
                "(see the line above). Grade where bubblewrap can make namespaces, or as an "
                "ordinary user (whose files and processes a submission can still reach), or "
                "one student per throw-away container with --unsafe-shared-filesystem.")
    if not hardened() and students > 1:
        return (f"refusing to grade {students} students without namespaces: each submission "
                "could read the others' work, the hidden tests and your files (see the line "
                "above). Grade as root on Linux with bubblewrap installed, or one student per "
                "container, or pass --unsafe-shared-filesystem to grade anyway.")
    return ""


def describe() -> str:
    """One line for the terminal: what protects the grader from submissions here."""
    if mode() == "off":
        return "sandbox OFF (DAY25_SANDBOX=off): no limits, no isolation - for benchmarks only"
    if runner.portable():
        lacks = runner.missing()
        why = (f"{runner.RUNNER_ENV}=portable" if not lacks or runner.RUNNER_ENV in os.environ
               else f"this Python lacks {', '.join(lacks)}")
        return (f"sandbox: NONE (the portable runner: {why}): submissions run as plain "
                "processes with timeouts, no rlimits and no namespaces, with your permissions: "
                "they CAN READ every file you can and use the network")
    kind = isolation()
    if kind == "root":
        return ("sandbox: rlimits + bubblewrap namespaces: each submission sees only the "
                "interpreter, the packages and its own copy, has no network and runs as an "
                "unprivileged uid of its own")
    if kind == "user":
        return ("sandbox: rlimits + bubblewrap in a user namespace: your code sees only the "
                "interpreter, the packages and its own copy, and has no network")
    why = "DAY25_SANDBOX=rlimits" if mode() == "rlimits" else (
        "bubblewrap cannot make namespaces here" if sys.platform.startswith("linux")
        else f"no namespaces on {sys.platform}")
    return (f"sandbox: rlimits ONLY ({why}): submissions are NOT network-isolated, CAN READ "
            "every file the grader can read (other submissions, the hidden tests, your home) "
            "and can stop the grader's processes" + (" and every other, as root" if _root()
                                                      else ""))


def _is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def prepare(paths: Sequence[Path], uid: int = NOBODY) -> None:
    """Hand a sandboxed process's private temp dirs to its uid, so it can write there.

    Only directories under the system temp dir that we own are touched: a
    student's own folder (``day25 check`` on ``exercises/``) is never chowned.
    """
    tmp = Path(tempfile.gettempdir()).resolve()
    for path in paths:
        if not path.is_dir() or not _is_under(path, tmp) or path == tmp:
            continue
        try:
            owner = path.stat().st_uid
            if owner != os.geteuid() and not _UIDS[0] <= owner < _UIDS[1]:
                continue  # not ours nor an earlier sandbox's (a restart gets a new uid)
            for root, dirs, files in os.walk(path):
                for name in [*dirs, *files]:
                    os.lchown(os.path.join(root, name), uid, NOBODY)
            os.chown(path, uid, NOBODY)
        except OSError:
            continue


def _package_root() -> Path:
    """The folder holding the ``day25`` package (an editable install's ``src/``)."""
    return Path(__file__).resolve().parents[3]


def _home() -> Path:
    """The caller's home from the account database (a sandbox's ``$HOME`` is its workdir)."""
    try:
        import pwd  # not on Windows, which never gets here (no namespaces)

        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except (ImportError, KeyError):
        return Path.home()


def warm() -> None:
    """Compute this process's part of every view now (the interpreter, libraries...):
    the session server does before it forks, so each zygote's view costs little."""
    if hardened():
        view.python_view(Path(tempfile.gettempdir()), uid=0, package_root=_package_root())


def sandbox_view(workdir: Path, uid: int | None, course: Path | None = None) -> view.View:
    """This machine's view for a process working in ``workdir``, checked before use:
    never the course's ``tests/`` or ``solutions/``, never all of a temp folder or home."""
    if course is None:
        try:
            course = find_course_root()
        except CatalogueError:
            course = None
    gid = NOBODY if uid is not None else os.getgid()
    made = view.python_view(workdir, uid=os.getuid() if uid is None else uid, gid=gid,
                            package_root=_package_root())
    hidden = [course / "tests", course / "solutions"] if course is not None else []
    shared = [Path(tempfile.gettempdir()), Path("/tmp"), Path("/home"), Path("/root"),
              _home()]
    view.validate(made, hidden, shared)
    return made


def wrap(argv: Sequence[str], *, cwd: Path, uid: int | None, fds: list[int],
         course: Path | None = None) -> list[str]:
    """The argv that runs ``argv`` in the sandbox, ``cwd`` its only writable folder
    (``argv`` as is when not hardened). ``fds``: descriptors to pass, then close.

    ``uid``: the one to drop to (as root); its caller has prepared what it may
    write. ``None``: a uid of its own, and ``cwd`` is handed to it.
    """
    kind = isolation()
    if kind is None:
        return list(argv)
    if kind == "root":
        if uid is None:
            uid = sandbox_uid()
            prepare([cwd], uid)
        return bwrap.command(sandbox_view(cwd, uid, course), argv, uid=uid, fds=fds)
    return bwrap.command(sandbox_view(cwd, None, course), argv, uid=None, fds=fds)


def enter(workdir: Path, uid: int, *, course: Path | None = None) -> bwrap.Holder:
    """Move THIS forked, single-threaded root process into a new view of ``workdir``.

    bwrap builds the view around a holder; this process joins its namespaces
    (its next child is in the view's PID namespace), having first zeroed the
    warm server's environment in its memory. Close the holder when done.
    """
    privileges.scrub_exec_environ()
    holder = bwrap.Holder(sandbox_view(workdir, uid, course))
    try:
        holder.join()
    except BaseException:
        holder.close()
        raise
    return holder


def zygote_uid(uid: int) -> int:
    """The real and saved uid of the zygote whose processes run as ``uid``: no account,
    no other sandbox's uid, so none of its processes may signal the zygote."""
    return uid + _UIDS[1] - _UIDS[0]


def drop_privileges(uid: int, keep: int) -> int:
    """In the zygote, forked after :func:`enter`: close every inherited descriptor but
    ``keep`` (returned as its new number), then become ``uid`` for good, with
    :func:`zygote_uid` as its real and saved uid (what it forks becomes ``uid`` alone:
    :func:`day25.course.sandbox.privileges.become_own`)."""
    keep = privileges.close_inherited_fds(keep)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):  # the warm server's stdout is the grader's channel: not ours
        os.dup2(devnull, fd)
    os.close(devnull)
    privileges.drop_to(uid, apart=zygote_uid(uid))
    return keep
