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

import csv
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from day25.course.sandbox import namespaces

COURSE = Path(__file__).resolve().parents[2]
MODULE = "notification_queueing.py"
SOLUTION = (COURSE / "solutions" / MODULE).read_text(encoding="utf-8")

pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("hostile_paths")]

#: appended to the solution: once uvicorn has bound the app's socket, swap something for a
#: link (SWAP is "socket" or "folder") pointing at TARGET, outside the sandbox's view
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

        self.call_soon(swap)
        return server

    loop_class.create_unix_server = create_unix_server
    loop_class._swapped = True


_create_app = create_app


def create_app(*args, **kwargs):
    _swap_after_bind()
    return _create_app(*args, **kwargs)
'''


class HostSocket:
    """A host-only Unix socket service: no graded app may ever reach it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.server = socket.socket(socket.AF_UNIX)
        self.server.bind(str(path))
        self.server.listen()
        self.server.settimeout(0.5)
        self.connections = 0
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 11\r\n\r\n"
                         b"HOST SECRET")
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.server.close()


@pytest.fixture(scope="module")
def graded() -> Iterator[dict[str, Any]]:
    root = Path(f"/var/tmp/day25-hostpaths-{uuid.uuid4().hex[:8]}")  # outside /tmp and the view
    klass, out, host_dir = root / "class", root / "out", root / "host"
    (host_dir / "1").mkdir(parents=True)
    (host_dir / "1" / "canary.txt").write_text("the grader must not delete me\n")
    (host_dir / "2").mkdir()
    (host_dir / "2" / "canary.txt").write_text("the grader must not delete me\n")
    service = HostSocket(root / "host.sock")
    students = {
        "honest": SOLUTION,
        "socket_swap": SOLUTION + f"\nSWAP, TARGET = 'socket', {str(service.path)!r}\n" + ATTACK,
        "folder_swap": SOLUTION + f"\nSWAP, TARGET = 'folder', {str(host_dir)!r}\n" + ATTACK,
    }
    for name, source in students.items():
        (klass / name).mkdir(parents=True)
        (klass / name / MODULE).write_text(source, encoding="utf-8")
    unsafe = [] if namespaces.hardened() else ["--unsafe-shared-filesystem"]
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "day25.cli", "grade", str(klass), "--out", str(out),
             "--jobs", "1", "--course", str(COURSE), *unsafe],
            capture_output=True, text=True, timeout=500, cwd=COURSE,
            env={**os.environ, "COLUMNS": "200"})
        with (out / "gradebook.csv").open(encoding="utf-8") as fh:
            rows = {row["student"]: row for row in csv.DictReader(fh)}
        yield {"proc": proc, "rows": rows, "out": out, "host_dir": host_dir,
               "service": service}
    finally:
        service.close()
        shutil.rmtree(root, ignore_errors=True)


def test_the_host_socket_hears_nothing_and_the_host_folder_keeps_its_files(
        graded: dict[str, Any]) -> None:
    assert graded["proc"].returncode == 0, graded["proc"].stderr[-3000:]
    assert graded["service"].connections == 0
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
    assert float(graded["rows"]["honest"]["notification_queueing"]) == 25
