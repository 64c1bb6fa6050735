"""What the grader opens to reach a submission, it closes: not left to the GC.

Every client of one app on one event loop shares a pooled transport
(``AppServer.http``). Its sockets belong to that loop: the pool must be closed when
the loop ends (each test has its own), when the app is stopped, and when a restart
replaces the app. Left open, each test's pool held its connection until the next
test replaced it, and the garbage collector closed it later with a
``ResourceWarning``. And a process that crashed or hung is dropped by
``ScenarioClient`` with its pipes closed, not left for the collector.
"""

from __future__ import annotations

import asyncio
import gc
import socket
import textwrap
import warnings
from pathlib import Path

import pytest

from day25.course.harness import AppServer, ScenarioClient, SubmissionError

APP = '''
from nexios import NexiosApp
import day25

def create_app():
    app = NexiosApp()
    day25.install(app)

    @app.get("/hello")
    async def hello(req, res):
        return res.json({"hello": "world"})
    return app
'''


def serve(tmp_path: Path) -> AppServer:
    (tmp_path / "chat_broadcasting.py").write_text(textwrap.dedent(APP))
    return AppServer(tmp_path, "chat_broadcasting")


def open_to(path: str) -> int:
    """How many open sockets of this process are connected to ``path``."""
    count = 0
    for obj in gc.get_objects():  # by type: isinstance() on a dead weakref.proxy raises
        if (issubclass(type(obj), socket.socket) and obj.family == socket.AF_UNIX
                and obj.fileno() >= 0):
            try:
                if obj.getpeername() == path:
                    count += 1
            except OSError:
                continue
    return count


async def hello(server: AppServer) -> None:
    async with server.http() as client:
        assert (await client.get("/hello")).json() == {"hello": "world"}


async def closed(path: str, *, within: float = 10.0) -> int:
    """The count of open sockets to ``path`` once it is 0, or when ``within`` s ran out:
    the pool is closed on its loop, a few turns after it is asked to."""
    for _ in range(int(within / 0.01)):
        if not open_to(path):
            break
        await asyncio.sleep(0.01)
    return open_to(path)


def test_the_pool_closes_when_its_event_loop_ends(tmp_path: Path) -> None:
    with serve(tmp_path) as server:
        path = server.uds
        assert path is not None
        asyncio.run(hello(server))  # a test's loop: it ends, and the pool with it
        assert open_to(path) == 0
        asyncio.run(hello(server))  # the next test's loop: a pool of its own, closed too
        assert open_to(path) == 0


async def test_the_pool_closes_when_the_app_stops_or_restarts(tmp_path: Path) -> None:
    server = serve(tmp_path).start()
    try:
        path = server.uds
        assert path is not None
        await hello(server)
        assert open_to(path) == 1  # kept open for the next request, as a browser does
        server.restart()  # the old app's connection goes with it
        assert await closed(path) == 0
        await hello(server)
        assert open_to(path) == 1
    finally:
        server.stop()
    assert await closed(path) == 0


def test_a_crashed_process_is_dropped_with_its_pipes_closed(tmp_path: Path) -> None:
    (tmp_path / "once_semantics.py").write_text("import os\nos._exit(3)\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        with ScenarioClient(tmp_path, "once_semantics", timeout=5) as runner:
            for _ in range(2):  # each call a fresh process, each crashing as it imports
                with pytest.raises(SubmissionError):
                    runner.run({"ops": []})
            assert runner.processes_started == 2
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert unclosed == []
