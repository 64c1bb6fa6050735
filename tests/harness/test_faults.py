"""The faults a hidden test asks for, as the app's own ``await ws.send_...()`` meets them.

``Faults`` is the ASGI middleware the app process wraps every app in: a WebSocket
whose handshake carries ``x-day25-fault`` gets sends that stall, raise, or take a
while, and the app never sees the header.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from day25.course.inside.apps import Faults
from day25.course.protocol import FAULT_HEADER

SEND = {"type": "websocket.send", "text": "{}"}


async def _run(fault: str | None, sends: int) -> tuple[list[Any], Any]:
    """An app that sends ``sends`` frames; what reached the client, and how it ended."""
    seen_headers: list[Any] = []
    delivered: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen_headers.extend(scope["headers"])
        await send({"type": "websocket.accept"})
        for _ in range(sends):
            await send(SEND)

    async def client_send(message: Any) -> None:
        delivered.append(message)

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    headers = [(b"origin", b"x")] + ([(FAULT_HEADER.encode(), fault.encode())] if fault else [])
    scope = {"type": "websocket", "headers": headers}
    try:
        await asyncio.wait_for(Faults(app)(scope, receive, client_send), 0.5)
        ending: Any = "done"
    except (OSError, TimeoutError) as exc:
        ending = type(exc).__name__
    assert (FAULT_HEADER.encode(), fault.encode() if fault else b"") not in seen_headers
    return [m for m in delivered if m["type"] == "websocket.send"], ending


async def test_no_fault_delivers_everything() -> None:
    assert await _run(None, 3) == ([SEND] * 3, "done")


@pytest.mark.parametrize(("fault", "ending"), [("raise:2", "OSError"), ("stall:2", "TimeoutError")])
async def test_the_first_n_sends_succeed_then_the_fault_starts(fault: str, ending: str) -> None:
    assert await _run(fault, 5) == ([SEND] * 2, ending)


async def test_a_slow_reader_gets_every_frame_late() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _run("slow:20", 4) == ([SEND] * 4, "done")
    assert loop.time() - started >= 4 * 0.02  # each send took its 20 ms, none was dropped
