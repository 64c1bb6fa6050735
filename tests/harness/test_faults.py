"""The faults a hidden test asks for, as the app's own ``await ws.send_...()`` meets them.

``Faults`` is the ASGI middleware the app process wraps every app in: a WebSocket
whose handshake carries ``x-day25-fault`` gets sends that stall, raise, or take a
while, and the app never sees the header.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest

from day25.course.inside.faults import Faults
from day25.course.inside.settle import SETTLE_HORIZON
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


def _sender(sends: int) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        for _ in range(sends):
            await send(SEND)
    return app


async def _connect() -> Any:
    return {"type": "websocket.connect"}


async def _drop(message: Any) -> None:
    pass


async def test_no_fault_delivers_everything() -> None:
    assert await _run(None, 3) == ([SEND] * 3, "done")


@pytest.mark.parametrize(("fault", "ending"), [("raise:2", "OSError"), ("stall:2", "TimeoutError"),
                                              ("stuck:2", "TimeoutError")])
async def test_the_first_n_sends_succeed_then_the_fault_starts(fault: str, ending: str) -> None:
    assert await _run(fault, 5) == ([SEND] * 2, ending)


@pytest.mark.parametrize(("fault", "closed"), [("stall:1", True), ("stuck:1", False)])
async def test_a_stuck_client_holds_back_the_close_too(fault: str, closed: bool) -> None:
    """A stalled send given up on, then a close: a stalled client still takes the close
    frame, a stuck one (its buffers full) takes nothing more."""
    delivered: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(SEND)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(send(SEND), 0.05)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(send({"type": "websocket.close", "code": 1011}), 0.05)

    async def client_send(message: Any) -> None:
        delivered.append(message["type"])

    scope = {"type": "websocket", "headers": [(FAULT_HEADER.encode(), fault.encode())]}
    await Faults(app)(scope, _connect, client_send)
    assert delivered == ["websocket.send"] + (["websocket.close"] if closed else [])


async def test_a_slow_reader_gets_every_frame_late() -> None:
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await _run("slow:20", 4) == ([SEND] * 4, "done")
    assert loop.time() - started >= 4 * 0.02  # each send took its 20 ms, none was dropped


async def test_a_slow_reader_can_take_its_first_sends_at_once() -> None:
    """Counted, not timed: a loaded machine stretches any wall-clock bound."""
    faults = Faults(_sender(3))
    await faults({"type": "websocket", "headers": [(FAULT_HEADER.encode(), b"slow:150:2")]},
                 _connect, _drop)
    assert faults.counts["slow"] == 1  # only the third send took its 150 ms


async def test_a_long_slow_send_is_work_under_way_not_an_idle_app() -> None:
    """settled() counts a timer due later than its horizon as idle: a slow send of a
    second must keep one due sooner, or a check would read its frame as never coming.

    Seen as settled() sees it: a callback ready to run (the send's next step, woken by
    the same tick as this sampler) is work due now, horizon 0."""
    horizons: list[float] = []
    task = asyncio.ensure_future(_run("slow:400", 1))
    loop = asyncio.get_running_loop()
    while not task.done():
        await asyncio.sleep(0.02)
        if loop._ready:  # type: ignore[attr-defined]
            horizons.append(0.0)
            continue
        due = [h.when() - loop.time() for h in loop._scheduled  # type: ignore[attr-defined]
               if not h.cancelled()]
        horizons.append(min(due, default=0.0))
    assert await task == ([SEND], "done")
    assert max(horizons) < SETTLE_HORIZON, horizons


async def test_the_faults_count_what_they_did_for_checks_that_do_not_time() -> None:
    """Three members stalled side by side, then one after another, a raise and a slow
    reader: the counts say how often each fault took over a send, and how many sends
    were stalled at one time (3 side by side, 1 one after another)."""
    stall = [(FAULT_HEADER.encode(), b"stall:0")]

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(SEND)

    async def nowhere(message: Any) -> None:
        pass

    async def receive() -> Any:
        return {"type": "websocket.connect"}

    def connection(fault: str) -> Any:
        return faults(
            {"type": "websocket", "headers": [(FAULT_HEADER.encode(), fault.encode())]},
            receive, nowhere)

    faults = Faults(app)
    side_by_side = [asyncio.ensure_future(connection("stall:0")) for _ in range(3)]
    await asyncio.wait(side_by_side, timeout=0.05)
    assert faults.counts["stalled_at_once"] == 3
    for task in side_by_side:
        task.cancel()
    await asyncio.gather(*side_by_side, return_exceptions=True)
    one_by_one = Faults(app)
    for _ in range(2):
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(one_by_one({"type": "websocket", "headers": stall},
                                              receive, nowhere), 0.02)
    with pytest.raises(OSError, match="injected fault 'raise'"):
        await one_by_one({"type": "websocket", "headers": [
            (FAULT_HEADER.encode(), b"raise:0")]}, receive, nowhere)
    await one_by_one({"type": "websocket", "headers": [(FAULT_HEADER.encode(), b"slow:1")]},
                     receive, nowhere)
    assert one_by_one.counts == {"raise": 1, "stall": 2, "slow": 1, "stalled_at_once": 1}
    assert faults.counts["stall"] == 3
