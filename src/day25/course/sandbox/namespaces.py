"""Namespaces and a dropped uid for sandboxed processes, when the system allows.

Why: rlimits stop a runaway process, but not one that reads the hidden tests
from disk, opens a network connection, or writes into the course package. When
the grader runs as root and ``unshare`` works, :func:`wrap` turns an argv
into one that runs it in new mount, network and PID namespaces: a trusted shell
preamble (running as root inside the new namespaces, never touching the host's
mounts) hides the course's ``tests/`` and ``solutions/`` under empty tmpfs,
makes the course ``src/`` read-only, and then drops to an unprivileged uid of
its own (gid 65534, see :func:`sandbox_uid`) with no capabilities before
exec'ing the program. Anything else falls back to rlimits
only, and :func:`describe` says so in plain words, so nobody believes a
sandbox is there when it is not.

``DAY25_SANDBOX`` chooses: ``auto`` (default: namespaces when possible),
``rlimits`` (never namespaces), ``off`` (no namespaces and no rlimits; only for
measuring the sandbox's cost in ``benchmarks/grade.py``).

What a sandboxed process may see (the allow-list): its own work directory
(writable), the folders named on its command line and in its environment, the
Python installation, and the rest of the root filesystem as the grader's
``other`` users see it, with the course's ``tests/`` and ``solutions/`` (and an
unreadable home holding the interpreter) masked by empty tmpfs and the
course's ``src/`` read-only; the loopback interface and no other network.
"""

from __future__ import annotations

import ctypes
import functools
import os
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from day25.course.catalogue import find_course_root

__all__ = ["NOBODY", "describe", "drop_privileges", "enter", "hardened", "mode",
           "namespaces_available", "prepare", "sandbox_uid", "wrap"]

NOBODY = 65534  # the group every sandboxed process runs in (nogroup)
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


@functools.cache
def namespaces_available() -> bool:
    """True when we are root and ``unshare``/``setpriv`` can build the namespaces."""
    if os.name != "posix" or os.geteuid() != 0:
        return False
    if not (shutil.which("unshare") and shutil.which("setpriv")):
        return False
    try:
        probe = subprocess.run(
            ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child",
             "--propagation", "private", "true"],
            capture_output=True, timeout=10, check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return probe.returncode == 0


def hardened() -> bool:
    """Whether sandboxed processes actually run in namespaces under an unprivileged uid."""
    return mode() == "auto" and namespaces_available()


def describe() -> str:
    """One line for the terminal: what protects the grader from submissions here."""
    if mode() == "off":
        return "sandbox OFF (DAY25_SANDBOX=off): no limits, no isolation - for benchmarks only"
    if hardened():
        return ("sandbox: rlimits + new mount/network/PID namespaces, no network, "
                "hidden tests and solutions masked, each child its own unprivileged uid")
    why = "DAY25_SANDBOX=rlimits" if mode() == "rlimits" else (
        "not root" if os.geteuid() != 0 else "unshare/setpriv unavailable")
    return (f"sandbox: rlimits ONLY ({why}): submissions are NOT network-isolated and "
            "could read files the grader can read")


def _is_under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _inaccessible_ancestor(path: Path) -> Path | None:
    """The topmost ancestor of ``path`` that 'other' users cannot enter (e.g. ``/root``)."""
    for parent in reversed(path.parents):
        if parent == Path("/"):
            continue
        try:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return parent
        except OSError:
            return None
    return None


def _existing_paths(values: Sequence[str]) -> list[Path]:
    found = []
    for value in values:
        if not value.startswith("/") or "\n" in value:
            continue
        candidate = Path(value)
        try:
            if candidate.exists():
                found.append(candidate.resolve())
        except OSError:
            continue
    return found


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


def _mounts(keep: list[Path], masks: list[Path], readonly: list[Path], stage: Path) -> list[str]:
    """The root-side shell lines that build the sandboxed view of the filesystem."""
    lines = [f"mount -t tmpfs -o size=1m,mode=0700 day25-stage {shlex.quote(str(stage))}"]
    staged: list[tuple[Path, Path]] = []
    for index, path in enumerate(keep):
        if any(_is_under(path, mask) for mask in masks):
            target = stage / f"k{index}"
            lines.append(f"mkdir -p {shlex.quote(str(target))}" if path.is_dir()
                         else f"touch {shlex.quote(str(target))}")
            lines.append(f"mount --rbind {shlex.quote(str(path))} {shlex.quote(str(target))}")
            staged.append((path, target))
    for mask in masks:
        lines.append(f"mount -t tmpfs -o size=1m,mode=0755 day25-masked {shlex.quote(str(mask))}")
    for path, target in staged:
        quoted = shlex.quote(str(path))
        lines.append(f"mkdir -p {quoted}" if path.is_dir()
                     else f"mkdir -p {shlex.quote(str(path.parent))} && touch {quoted}")
        lines.append(f"mount --rbind {shlex.quote(str(target))} {quoted}")
    for path in readonly:
        quoted = shlex.quote(str(path))
        lines.append(f"mount --bind {quoted} {quoted} && mount -o remount,bind,ro {quoted}")
    lines.append("ip link set lo up 2>/dev/null || true")
    return lines


def _view(cwd: Path, values: Sequence[str], uid: int, root: Path | None = None) -> list[str]:
    """Prepare the sandbox's writable paths and return the mount lines for its view."""
    root = root or find_course_root()
    masks = [p for p in (root / "tests", root / "solutions") if p.is_dir()]
    prefix = Path(sys.base_prefix).resolve()
    hidden_home = _inaccessible_ancestor(prefix)
    if hidden_home is not None and not _is_under(root, hidden_home):
        masks.append(hidden_home)  # hides that home too; the interpreter is bound back in
    keep = [cwd.resolve(), prefix, *_existing_paths(values)]
    if Path(sys.prefix).resolve() != prefix:
        keep.append(Path(sys.prefix).resolve())
    keep = [p for p in dict.fromkeys(keep) if p != Path("/")]
    stage = Path(tempfile.gettempdir()) / ".day25-stage"  # a tmpfs is mounted on it inside
    stage.mkdir(mode=0o700, exist_ok=True)
    writable = [cwd.resolve()]
    for value in values:
        if value.startswith("/") and "\n" not in value:
            path = Path(value)
            writable.append(path if path.is_dir() else path.parent)
    prepare(writable, uid)
    readonly = [p for p in (root / "src",) if p.is_dir()]
    return _mounts(keep, masks, readonly, stage)


def wrap(
    argv: Sequence[str], *, cwd: Path, env: Mapping[str, str], uid: int | None = None
) -> list[str]:
    """The argv that runs ``argv`` inside the namespaces (``argv`` as is when not hardened)."""
    if not hardened():
        return list(argv)
    uid = sandbox_uid() if uid is None else uid
    lines = ["set -e", *_view(cwd, [*argv[1:], *env.values()], uid)]
    # --pdeathsig: changing the uid clears the parent-death signal unshare's
    # --kill-child set, which let a namespace outlive a killed grader.
    lines.append(f"exec setpriv --reuid={uid} --regid={NOBODY} --clear-groups "
                 "--inh-caps=-all --bounding-set=-all --pdeathsig SIGKILL -- \"$@\"")
    return ["unshare", "--mount", "--net", "--pid", "--fork", "--kill-child",
            "--mount-proc", "--propagation", "private", "--",
            "/bin/sh", "-c", "\n".join(lines), "day25-sandbox", *argv]


# -- the same sandbox, entered by a forked process (no exec) ----------------------------
_CLONE_NEWNS, _CLONE_NEWPID, _CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
_PR_SET_PDEATHSIG, _PR_CAPBSET_DROP, _PR_SET_NO_NEW_PRIVS = 1, 24, 38
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 4


def _libc_call(name: str, *args: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args}: {os.strerror(errno)}")


def enter(cwd: Path, uid: int, values: Sequence[str] = (), *, root: Path | None = None) -> None:
    """Move THIS (forked, root) process into new mount and network namespaces with the
    sandboxed view of the filesystem, and make its next child the init of a new PID
    namespace. :func:`drop_privileges` finishes the job in that process.

    Why: exec'ing ``unshare``/``sh``/``setpriv``/``python`` and importing nexios
    again for every submission repeats work a warm process has done once: it forks.
    """
    _libc_call("unshare", _CLONE_NEWNS | _CLONE_NEWNET)
    script = "\n".join(["set -e", "mount --make-rprivate /", *_view(cwd, values, uid, root)])
    subprocess.run(["/bin/sh", "-c", script], check=True, timeout=30, capture_output=True)
    _libc_call("unshare", _CLONE_NEWPID)


def drop_privileges(uid: int) -> None:
    """In the new PID namespace's init: mount its /proc, then become ``uid`` for good."""
    subprocess.run(["mount", "-t", "proc", "proc", "/proc"], check=True, timeout=30,
                   capture_output=True)
    os.setgroups([])
    os.setresgid(NOBODY, NOBODY, NOBODY)
    _libc_call("prctl", _PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    for cap in range(64):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    _libc_call("prctl", _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    os.setresuid(uid, uid, uid)  # leaves no capability behind (no keep-caps)
    _libc_call("prctl", _PR_SET_PDEATHSIG, 9, 0, 0, 0)  # the uid change cleared it
