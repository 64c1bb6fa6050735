"""The grader's paths into a submission's work directory follow no link it planted.

The work directory is writable inside the sandbox; the grader uses paths in it
from outside, as root. A link planted there must lead the grader nowhere:
neither to a host-only Unix socket nor to a host folder it would delete.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from day25.course.sandbox.beneath import NotBeneath, PinnedSocket, remove_beneath


@pytest.fixture
def host(tmp_path: Path) -> Path:
    """A folder outside the work directory, with a file the grader must never delete."""
    folder = tmp_path / "host"
    (folder / "1").mkdir(parents=True)
    (folder / "1" / "canary.txt").write_text("still here")
    return folder


@pytest.fixture
def work(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    (folder / "apps" / "1" / "data").mkdir(parents=True)
    return folder


@pytest.fixture
def listening(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    """A host-only Unix socket, outside the work directory, at ``hostapps/1/app.sock``."""
    path = tmp_path / "hostapps" / "1" / "app.sock"
    path.parent.mkdir(parents=True)
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.listen()
    yield server, path
    server.close()


def _serve(folder: Path) -> socket.socket:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "app.sock"))
    server.listen()
    return server


def test_a_pinned_socket_reaches_that_socket_even_after_it_is_swapped(
        work: Path, listening: tuple[socket.socket, Path]) -> None:
    app = _serve(work / "apps" / "1")
    with PinnedSocket(work, work / "apps" / "1" / "app.sock") as pinned:
        os.unlink(work / "apps" / "1" / "app.sock")
        os.symlink(listening[1], work / "apps" / "1" / "app.sock")
        client = socket.socket(socket.AF_UNIX)
        client.connect(pinned.path)
        accepted, _ = app.accept()
        client.sendall(b"hi")
        assert accepted.recv(2) == b"hi"
        for sock in (client, accepted, app):
            sock.close()
    assert pinned.fd == -1


@pytest.mark.parametrize("planted", ["socket", "folder", "file"])
def test_a_planted_link_or_file_is_refused_before_any_connection(
        work: Path, listening: tuple[socket.socket, Path], planted: str) -> None:
    target = listening[1]
    if planted == "socket":  # the socket itself is a link to the host's
        os.symlink(target, work / "apps" / "1" / "app.sock")
    elif planted == "folder":  # a folder on the way is a link to the host's folder
        os.rename(work / "apps", work / "apps_real")
        os.symlink(target.parent.parent, work / "apps")  # apps/1/app.sock: the host's socket
    else:
        (work / "apps" / "1" / "app.sock").write_text("not a socket")
    with pytest.raises(NotBeneath):
        PinnedSocket(work, work / "apps" / "1" / "app.sock")
    listening[0].setblocking(False)
    with pytest.raises(BlockingIOError):
        listening[0].accept()  # nobody connected to the host's socket


def test_removal_never_follows_a_link_out_of_the_work_directory(work: Path, host: Path) -> None:
    os.rename(work / "apps", work / "apps_real")
    os.symlink(host, work / "apps")  # apps/1 now names the host's folder 1
    remove_beneath(work, work / "apps" / "1")
    assert (host / "1" / "canary.txt").read_text() == "still here"
    os.symlink(host / "1", work / "apps_real" / "2")  # a link as the folder to remove
    remove_beneath(work, work / "apps_real" / "2")
    assert not os.path.lexists(work / "apps_real" / "2")  # the link went, not its target
    assert (host / "1" / "canary.txt").read_text() == "still here"


def test_removal_removes_the_real_folder_and_ignores_a_missing_one(work: Path) -> None:
    (work / "apps" / "1" / "data" / "db.sqlite3").write_text("x")
    remove_beneath(work, work / "apps" / "1")
    assert not (work / "apps" / "1").exists() and (work / "apps").is_dir()
    remove_beneath(work, work / "apps" / "9")  # nothing to remove


def test_a_path_outside_the_work_directory_is_refused(work: Path, host: Path) -> None:
    with pytest.raises(NotBeneath):
        remove_beneath(work, host / "1")
    with pytest.raises(NotBeneath):
        PinnedSocket(work, work / ".." / "host" / "1")
    assert (host / "1" / "canary.txt").exists()
