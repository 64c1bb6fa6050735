"""An app that plants links in its own folder leads the grader nowhere on the host.

The grader reaches a web exercise's app through a Unix socket in the app's folder,
from outside the sandbox and as root, and removes that folder after each test.
Found by a red team (the bubblewrap view itself held): an app that swapped its
socket for a link to a host-only socket had the grader connect there and quote
the answer in the feedback, and one that swapped its ``apps`` folder for a link to
a host folder had the grader delete that folder. Graded here in one real batch,
beside an honest student: the host socket hears nothing, the host folder keeps its
file, the attackers lose their points with a sentence that says why, and the
honest student keeps all of them.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .classroom import COURSE, Listener, grade_class, lost, write_class

MODULE = "notification_queueing.py"
SOLUTION = (COURSE / "solutions" / MODULE).read_text(encoding="utf-8")

pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("hostile_paths")]

#: appended to the solution: once uvicorn has bound the app's socket, and before it says it
#: started, swap something for a link (SWAP is "socket" or "folder") pointing at TARGET,
#: outside the sandbox's view. After the grader pinned the socket a swap is harmless (the
#: grader keeps reaching the real app), so the swap must come first for the test to decide.
ATTACK = '''

def _swap_after_bind():
    import os
    from asyncio import unix_events
    loop_class = unix_events._UnixSelectorEventLoop
    if getattr(loop_class, "_swapped", False):
        return
    bind = loop_class.create_unix_server

    async def create_unix_server(self, *args, path=None, **kwargs):
        server = await bind(self, *args, path=path, **kwargs)

        def swap():
            try:
                if SWAP == "socket":
                    os.symlink(TARGET, path + ".link")
                    os.rename(path + ".link", path)
                else:
                    apps = os.path.dirname(os.path.dirname(path))
                    if not os.path.islink(apps):
                        os.rename(apps, apps + "_real")
                        os.symlink(TARGET, apps)
            except OSError as exc:
                print("swap failed:", exc)

        swap()  # before uvicorn says it started, so before the grader looks: no race
        chmod = os.chmod

        def chmod_unless_swapped(target, *args, **kwargs):  # uvicorn chmods the socket next
            if target != path:
                chmod(target, *args, **kwargs)

        os.chmod = chmod_unless_swapped
        return server

    loop_class.create_unix_server = create_unix_server
    loop_class._swapped = True


_create_app = create_app


def create_app(*args, **kwargs):
    _swap_after_bind()
    return _create_app(*args, **kwargs)
'''


@pytest.fixture(scope="module")
def graded() -> Iterator[dict[str, Any]]:
    root = Path(f"/var/tmp/day25-hostpaths-{uuid.uuid4().hex[:8]}")  # outside /tmp and the view
    host_dir = root / "host"
    for folder in ("1", "2"):
        (host_dir / folder).mkdir(parents=True)
        (host_dir / folder / "canary.txt").write_text("the grader must not delete me\n")
    # a host-only service on a Unix socket (think docker.sock): no graded app may reach it
    service = Listener(unix=root / "host.sock",
                       reply=b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 11\r\n\r\n"
                             b"HOST SECRET")
    write_class(root / "class", {name: {MODULE: source} for name, source in {
        "honest": SOLUTION,
        "socket_swap": SOLUTION + f"\nSWAP, TARGET = 'socket', {str(root / 'host.sock')!r}\n"
        + ATTACK,
        "folder_swap": SOLUTION + f"\nSWAP, TARGET = 'folder', {str(host_dir)!r}\n" + ATTACK,
    }.items()})
    try:
        proc, rows = grade_class(root / "class", root / "out")
        yield {"proc": proc, "rows": rows, "out": root / "out", "host_dir": host_dir,
               "service": service}
    finally:
        service.close()
        shutil.rmtree(root, ignore_errors=True)


def test_the_host_socket_hears_nothing_and_the_host_folder_keeps_its_files(
        graded: dict[str, Any]) -> None:
    assert graded["proc"].returncode == 0, graded["proc"].stderr[-3000:]
    assert graded["service"].received == []
    for folder in ("1", "2"):
        assert (graded["host_dir"] / folder / "canary.txt").is_file()


@pytest.mark.parametrize("attacker", ["socket_swap", "folder_swap"])
def test_the_attacker_loses_its_points_and_is_told_why(graded: dict[str, Any],
                                                       attacker: str) -> None:
    assert float(graded["rows"][attacker]["notification_queueing"]) == 0
    feedback = (graded["out"] / attacker / "feedback.md").read_text(encoding="utf-8")
    said = [line for line in feedback.splitlines() if "or a folder on its way was replaced" in line]
    assert said, feedback[:2000]
    assert not any("/tmp" in line for line in said), said  # relative: apps/N/app.sock
    assert "HOST SECRET" not in feedback


def test_the_honest_neighbour_keeps_every_point(graded: dict[str, Any]) -> None:
    assert float(graded["rows"]["honest"]["notification_queueing"]) == 25, \
        lost(graded["out"], "honest")
