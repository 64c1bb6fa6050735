"""Paths beneath a folder a submission can write, as the grader must use them.

Why: a submission's work directory is bind-mounted writable into its sandbox,
and the grader, outside the sandbox and as root, reaches the app's Unix socket
and removes the app's folder through paths in it. A submission that swaps a
folder on the way (``apps``) or the socket itself for a symbolic link would
have the grader follow it on the host: connect to a host-only socket, or delete
a host folder, as root. So below the work directory (made by the grader, in a
folder only the grader writes) nothing is followed: each component is opened
with ``O_NOFOLLOW``, the socket is pinned by an ``O_PATH`` descriptor once it is
checked to be a socket, and connections go through ``/proc/self/fd/N``, which
names that very inode however the path changes afterwards.

Where there is no ``O_PATH`` (macOS, Windows: the portable runner, which has no
sandbox, so the submission runs as the grader's own user and there is no boundary
to cross) :func:`remove_beneath` is a plain ``rmtree``; sockets are not used there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from pathlib import Path, PurePath

__all__ = ["FOLLOWS_NOTHING", "NotBeneath", "PinnedSocket", "open_beneath", "remove_beneath"]

#: descriptor-relative, link-refusing opens are possible here (Linux)
FOLLOWS_NOTHING = hasattr(os, "O_PATH") and os.open in os.supports_dir_fd


def _dir_flags() -> int:
    return os.O_PATH | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class NotBeneath(OSError):
    """A path below the work directory is not what the grader made there (a symbolic
    link, a file where a folder belongs, anything but a socket where the socket is)."""


def _parts(root: Path, path: Path) -> tuple[str, ...]:
    parts = PurePath(os.path.relpath(path, root)).parts
    if not parts or parts[0] == ".." or os.path.isabs(parts[0]) or ".." in parts:
        raise NotBeneath(f"{path} is not below {root}")
    return parts


def open_beneath(root: Path, folder: Path) -> int:
    """An ``O_PATH`` descriptor of ``folder``, reached from ``root`` without following
    any symbolic link below ``root`` (``root`` itself is the grader's)."""
    fd = os.open(root, _dir_flags())
    if folder == root:
        return fd
    try:
        for name in _parts(root, folder):
            try:
                nxt = os.open(name, _dir_flags(), dir_fd=fd)
            except OSError as exc:  # ELOOP or ENOTDIR: a link or a file where a folder was
                raise NotBeneath(f"{folder}: {name!r} is not a folder: {exc.strerror}") from exc
            os.close(fd)
            fd = nxt
        return fd
    except BaseException:
        os.close(fd)
        raise


def remove_beneath(root: Path, path: Path) -> None:
    """``rmtree(path)``, never outside ``root``: a link on the way (or at ``path``) is
    not followed; a missing path is nothing to remove."""
    if not FOLLOWS_NOTHING:
        shutil.rmtree(path, ignore_errors=True)
        return
    parts = _parts(root, path)
    try:
        parent = open_beneath(root, root.joinpath(*parts[:-1]))
    except (FileNotFoundError, NotBeneath):
        return  # a link on the way leads nowhere the grader will go; the root's removal ends it
    try:
        # rmtree(dir_fd=) refuses a link at the top and walks the rest by descriptors
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            if stat.S_ISLNK(os.stat(parts[-1], dir_fd=parent, follow_symlinks=False).st_mode):
                os.unlink(parts[-1], dir_fd=parent)
            else:
                shutil.rmtree(parts[-1], dir_fd=parent)
    finally:
        os.close(parent)


class PinnedSocket:
    """A Unix socket below ``root``, pinned: :attr:`path` connects to that inode only.

    ``PinnedSocket(root, sock_path)`` raises :class:`NotBeneath` if a link is on the way
    or the file is not a socket. Close it (or use ``with``) when the app is gone."""

    def __init__(self, root: Path, socket_path: Path) -> None:
        parts = _parts(root, socket_path)
        folder = open_beneath(root, root.joinpath(*parts[:-1]))
        try:
            self.fd = os.open(parts[-1], os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
        finally:
            os.close(folder)
        if not stat.S_ISSOCK(os.fstat(self.fd).st_mode):
            os.close(self.fd)
            raise NotBeneath(f"{socket_path} is not a socket")
        self.path = f"/proc/self/fd/{self.fd}"

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> PinnedSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
