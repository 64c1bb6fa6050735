"""bubblewrap (``bwrap``) builds every sandbox's view; this module only speaks its language.

Why a kept tool: mounts, remount flags, propagation, ``pivot_root`` and the
loopback interface are easy to get subtly wrong by hand; bubblewrap exists
for exactly this. A :data:`~day25.course.sandbox.view.View` is rendered once
(:func:`bwrap_args`) and used two ways:

* exec: :func:`command` wraps an argv (as root: ``bwrap`` without a user
  namespace, then ``setpriv`` drops to the submission's uid inside; as
  anybody else: ``bwrap --unshare-all``, the caller's own uid);
* fork: a :class:`Holder` is a ``bwrap`` around a do-nothing ``cat``; a
  process forked from the warm session server joins the holder's namespaces
  with ``setns(2)`` (:meth:`Holder.join`) instead of exec'ing anything.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from day25.course.sandbox.privileges import NOBODY
from day25.course.sandbox.view import Bind, Dev, File, Proc, Symlink, Tmpfs, View, tool

__all__ = ["NAMESPACES", "Holder", "available", "bwrap_args", "command"]

#: the namespaces of a sandbox started by root: everything but the user namespace
#: (with one, root's bwrap would map the submission's uid to the machine's root)
NAMESPACES = ("--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try", "--die-with-parent", "--new-session")
#: the same for anybody else: a user namespace mapping the caller's uid to itself
USER_NAMESPACES = ("--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                   "--new-session")
_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWPID, _CLONE_NEWNET = 0x20000000, 0x40000000


def bwrap_args(view: View, fds: list[int]) -> list[str]:
    """bubblewrap's options for ``view``; a :class:`File`'s data goes through a pipe put in
    ``fds`` (the caller passes them to bwrap and closes them)."""
    args: list[str] = []
    made: set[Path] = {Path("/")}
    for entry in view:
        # bwrap makes missing parents 0700: the dropped uid could not reach its own binds
        for parent in reversed(entry.target.parents):
            if parent not in made:
                made.add(parent)
                args += ["--perms", "0755", "--dir", str(parent)]
        made.add(entry.target)
        if isinstance(entry, Bind):
            args += ["--bind" if entry.writable else "--ro-bind", str(entry.source),
                     str(entry.target)]
        elif isinstance(entry, Dev):
            args += ["--dev-bind", str(entry.target), str(entry.target)]
        elif isinstance(entry, Tmpfs):
            args += ["--perms", f"{entry.mode:04o}", "--size", str(entry.size), "--tmpfs",
                     str(entry.target)]
        elif isinstance(entry, Proc):
            args += ["--proc", str(entry.target)]
        elif isinstance(entry, Symlink):
            args += ["--symlink", entry.points_to, str(entry.target)]
        elif isinstance(entry, File):
            read, write = os.pipe()
            os.write(write, entry.content)  # a few hundred bytes: fits the pipe's buffer
            os.close(write)
            fds.append(read)
            args += ["--perms", f"{entry.mode:04o}", "--ro-bind-data", str(read),
                     str(entry.target)]
    return args


def _workdir(view: View) -> Path:
    return next(e.target for e in reversed(view) if isinstance(e, Bind) and e.writable)


def command(view: View, argv: Sequence[str], *, uid: int | None, fds: list[int]) -> list[str]:
    """The argv that runs ``argv`` in ``view``, in its workdir.

    ``uid`` (as root): the uid to drop to inside, with ``setpriv``: no groups,
    no capabilities, no new privileges. ``None``: an unprivileged caller's
    sandbox, in a user namespace, as the caller's own uid.
    """
    if uid is None:
        return ["bwrap", *USER_NAMESPACES, *bwrap_args(view, fds), "--chdir",
                str(_workdir(view)), "--", *argv]
    # keep CAP_DAC_READ_SEARCH until setpriv: root must enter the uid's 0700 workdir
    caps = [arg for cap in ("CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_DAC_READ_SEARCH")
            for arg in ("--cap-add", cap)]
    setpriv = tool("setpriv")
    return ["bwrap", *NAMESPACES, "--cap-drop", "ALL", *caps,
            *bwrap_args([*view, setpriv], fds), "--chdir", str(_workdir(view)), "--",
            str(setpriv.target), f"--reuid={uid}", f"--regid={NOBODY}", "--clear-groups",
            "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs",
            "--pdeathsig", "SIGKILL", "--", *argv]


class Holder:
    """A bwrap whose only process is ``cat``: it holds a view's namespaces open.

    Started by a (single-threaded, root) process forked from the warm session
    server, which then calls :meth:`join`. The view is complete once ``cat``
    echoes a byte: bwrap reports its pid before it builds anything. Closing
    ``cat``'s stdin (:meth:`close`), or the death of the process that started
    it (``--die-with-parent``), ends bwrap's pid 1, and the kernel kills
    everything left in the PID namespace.
    """

    def __init__(self, view: View) -> None:
        fds: list[int] = []
        info_r, info_w = os.pipe()
        try:
            cat = tool("cat")
            args = bwrap_args([*view, cat], fds)
            self.proc = subprocess.Popen(
                ["bwrap", *NAMESPACES, "--cap-drop", "ALL", "--info-fd", str(info_w), *args,
                 "--", str(cat.target)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                pass_fds=[*fds, info_w], env={})
        finally:
            for fd in (*fds, info_w):
                os.close(fd)
        with os.fdopen(info_r) as info:
            text = info.read(4096)
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            self.pid = int(json.loads(text)["child-pid"])
            self.proc.stdin.write(b"r")
            self.proc.stdin.flush()
            if self.proc.stdout.read(1) != b"r":
                raise OSError("the view's holder did not start")
        except (OSError, ValueError, KeyError) as exc:
            self.proc.kill()
            self.proc.wait()
            error = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
            self.close()
            raise OSError(f"bubblewrap could not build the sandbox: {error.strip() or exc}"
                          ) from exc

    def join(self) -> None:
        """Move THIS process into the view: its mount, network, IPC and UTS namespaces now,
        its PID namespace for the children it forks next. Needs a single-threaded caller
        (Linux >= 5.8: one ``setns`` on a pidfd)."""
        pidfd = os.pidfd_open(self.pid)
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            flags = _CLONE_NEWNS | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS | _CLONE_NEWPID
            if libc.setns(pidfd, flags) != 0:
                errno = ctypes.get_errno()
                raise OSError(errno, f"setns into the sandbox: {os.strerror(errno)}")
        finally:
            os.close(pidfd)

    def close(self) -> None:
        """End the holder, and with it everything left in its PID namespace."""
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                if stream is not None:
                    stream.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            with contextlib.suppress(OSError):
                self.proc.stderr.close()


@functools.cache
def available(as_root: bool) -> bool:
    """Whether bwrap is installed and can make a sandbox here (asked once per process)."""
    if shutil.which("bwrap") is None:
        return False
    spaces = NAMESPACES if as_root else USER_NAMESPACES
    probe = ["bwrap", *spaces, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--",
             "true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0
