"""The demo chat after its room drops a slow reader: that reader's later frames end its handler.

Stop 62's red team flooded a room while one tab did not read. The room closed that tab as
a slow consumer (4408), and when the tab's heartbeat ping arrived the handler answered it
on the closed socket: a ``RuntimeError`` traceback in the server's log for every such tab.
The demo app runs here without the guard in front of it (the guard's frame limits would
make the flood take minutes), on a real server, with a reader whose TCP buffer is small.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from day25.realtime import BackgroundServer
from day25.serve.demo.chat_broadcasting import MAX_TEXT, create_app

from ..realtime.test_slow_consumer import small_buffer_socket

pytestmark = pytest.mark.timeout(60)


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def logged_errors() -> Iterator[list[logging.LogRecord]]:
    """What the server logs at ERROR or above, whichever logger it uses (uvicorn's do not
    reach the root's, so pytest's caplog would not see them)."""
    errors = _Errors()
    loggers = [logging.getLogger(name) for name in ("", "uvicorn", "uvicorn.error", "nexios")]
    for logger in loggers:
        logger.addHandler(errors)
    yield errors.records
    for logger in loggers:
        logger.removeHandler(errors)


async def _until_left(ws: ClientConnection, user: str) -> None:
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "leave" and frame["user"] == user:
            return


async def test_a_ping_from_a_dropped_slow_reader_is_not_answered(
    logged_errors: list[logging.LogRecord],
) -> None:
    with BackgroundServer(create_app()) as server:
        bob = await connect(server.ws_url("/chat/lobby?user=bob"), compression=None,
                            max_queue=None)
        ann = await connect(server.ws_url("/chat/lobby?user=ann"),
                            sock=small_buffer_socket(server.port), max_queue=1,
                            compression=None)
        left = asyncio.create_task(_until_left(bob, "ann"))
        text = "x" * MAX_TEXT
        sent = 0
        while not left.done() and sent < 20_000:  # ~40 MB: far past what the kernel buffers
            await bob.send(json.dumps({"type": "message", "text": text}))
            sent += 1
            await asyncio.sleep(0)  # bob's reader keeps up, so only ann is slow
        await asyncio.wait_for(left, 10)  # the room dropped ann and said so
        await ann.send(json.dumps({"type": "ping"}))  # ann's side still thinks it is open
        await ann.send(json.dumps({"type": "message", "text": "still here?"}))
        await asyncio.sleep(0.5)
        # the room goes on for those who read
        await bob.send(json.dumps({"type": "message", "text": "after"}))
        got: Any = None
        while got is None or got.get("text") != "after":
            got = json.loads(await asyncio.wait_for(bob.recv(), 5))
        assert got["user"] == "bob"
        ann.transport.abort()  # its buffers are full: a closing handshake would wait
        await bob.close()
    assert [record.getMessage() for record in logged_errors] == []
