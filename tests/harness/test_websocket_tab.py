"""WebSocketTab: the one ASGI WebSocket client of the hidden probes and the public checks.

A tab must give an app what a server would (connect, each frame, a disconnect once the app
closed or the tab left), hold exactly the send it was told to, and keep how the handler
ended for the probe to judge, never raise it into the probe's loop.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

from day25.course.inside.websocket_tab import WebSocketTab


def echo_app(log: list[Any]) -> Any:
    """A raw ASGI app: accepts, says hello with its path and query, echoes each frame until
    ``{"bye": true}`` (then closes) or a disconnect, and logs every message it received."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        log.append(await receive())
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(
            {"path": scope["path"], "query": scope["query_string"].decode()})})
        while True:
            message = await receive()
            log.append(message)
            if message["type"] == "websocket.disconnect":
                return
            frame = json.loads(message["text"])
            if frame == {"bye": True}:
                await send({"type": "websocket.close", "code": 1000})
                log.append(await receive())  # what a server says after the close
                return
            await send({"type": "websocket.send", "text": json.dumps(frame)})

    return app


async def until(test: Any, limit: float = 2.0) -> None:
    """Let the app's handler run until ``test()`` holds (a list's length has no Event)."""
    async with asyncio.timeout(limit):
        for _ in iter(test, True):
            await asyncio.sleep(0.001)


async def test_frames_go_both_ways_and_a_close_is_answered_with_a_disconnect() -> None:
    log: list[Any] = []
    tab = WebSocketTab(echo_app(log), "/room/a", "user=ann")
    tab.send_json({"n": 1})
    tab.send_json({"bye": True})
    await asyncio.wait_for(tab.task, 2.0)
    assert tab.frames == [{"path": "/room/a", "query": "user=ann"}, {"n": 1}]
    assert tab.closed and tab.error is None
    assert [m["type"] for m in log] == ["websocket.connect", "websocket.receive",
                                        "websocket.receive", "websocket.disconnect"]


async def test_the_send_held_waits_at_its_gate_and_the_others_do_not() -> None:
    tab = WebSocketTab(echo_app([]), "/", hold_at=1)
    for n in range(3):
        tab.send_json({"n": n})
    await asyncio.wait_for(tab.held.wait(), 2.0)
    await asyncio.sleep(0.01)  # the app's later frames wait behind the held one
    assert tab.frames == [{"path": "/", "query": ""}] and tab.sent == 2
    tab.gate.set()
    await until(lambda: len(tab.frames) == 4)
    assert [f.get("n") for f in tab.frames[1:]] == [0, 1, 2]
    tab.close()
    await asyncio.wait_for(tab.task, 2.0)
    assert tab.error is None and not tab.closed


async def test_a_held_send_that_fails_breaks_the_connection_under_the_app() -> None:
    app = NexiosApp()
    seen: list[Any] = []

    @app.ws_route("/chat")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.send_json({"hello": 1})
        except WebSocketDisconnect as exc:  # nexios' word for the OSError under it
            seen.append((exc.code, repr(exc.__context__)))

    tab = WebSocketTab(app, "/chat", hold_at=0, fail_held=True)
    await asyncio.wait_for(tab.held.wait(), 2.0)
    assert not tab.task.done()
    tab.gate.set()
    await asyncio.wait_for(tab.task, 2.0)
    assert seen == [(1006, "OSError('the connection is gone')")] and tab.frames == []
    assert tab.error is None and tab.sent == 1
    assert tab.inbox.get_nowait() == {"type": "websocket.disconnect", "code": 1006}


async def test_a_handler_that_raises_ends_its_task_with_the_error_kept() -> None:
    async def broken(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        raise RuntimeError("boom")

    tab = WebSocketTab(broken, "/")
    await asyncio.wait_for(tab.task, 2.0)
    assert isinstance(tab.error, RuntimeError) and str(tab.error) == "boom"
