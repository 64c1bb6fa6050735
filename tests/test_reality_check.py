"""Every claim the lessons make about plain Nexios, asserted against the installed nexios.

Most are in the appendix, notebooks/14_appendix_reality_check.ipynb; the others are
in notebooks 2, 3 and 8 and in docs/cheatsheet.md (the Nexios column). If a nexios
release changes one of these, the test fails and the text must be updated.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import websockets
from nexios import NexiosApp
from nexios.events import (
    EventCancelledError,
    EventEmitter,
    EventPriority,
    ListenerAlreadyRegisteredError,
)
from nexios.websockets import Channel, ChannelBox, WebSocket, WebSocketDisconnect

from day25.realtime import BackgroundServer

#: awaiting what is not awaitable, in Python 3.11-3.13's words and in 3.14's
NOT_AWAITABLE = r"can't be used in 'await' expression|object can't be awaited"

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(autouse=True)
def fresh_channelbox() -> Iterator[None]:
    """ChannelBox keeps its groups in class-level dicts: isolate every test."""
    saved = ChannelBox.CHANNEL_GROUPS
    ChannelBox.CHANNEL_GROUPS = {}
    yield
    ChannelBox.CHANNEL_GROUPS = saved


async def test_awaiting_emit_is_a_type_error_after_the_listeners_ran() -> None:
    app = NexiosApp()
    seen: list[str] = []

    @app.events.on("user.created")
    def handle_user_created(user: dict[str, str]) -> None:
        seen.append(user["name"])

    assert isinstance(app.events, EventEmitter)
    with pytest.raises(TypeError, match=NOT_AWAITABLE):
        await app.events.emit("user.created", {"name": "Bob"})
    assert seen == ["Bob"]  # the error comes after the listener already ran


async def test_awaiting_emit_is_a_type_error_before_async_listeners_ran() -> None:
    app = NexiosApp()
    seen: list[str] = []

    @app.events.on("user.created")
    async def handle_user_created(user: dict[str, str]) -> None:
        seen.append(user["name"])

    with pytest.raises(TypeError, match=NOT_AWAITABLE):
        await app.events.emit("user.created", {"name": "Bob"})
    assert seen == []  # an async listener is a task: it has not run yet
    await asyncio.sleep(0)
    assert seen == ["Bob"]


def test_priorities_count_down_from_highest() -> None:
    values = {p.name: p.value for p in EventPriority if p.name != "MEDIUM"}
    assert values == {"HIGHEST": 1, "HIGH": 2, "NORMAL": 3, "LOW": 4, "LOWEST": 5}


def test_the_same_listener_twice_raises_at_one_priority_and_runs_twice_at_two() -> None:
    emitter = EventEmitter()
    ran: list[int] = []
    emitter.on("e", ran.append)
    with pytest.raises(ListenerAlreadyRegisteredError):
        emitter.on("e", ran.append)
    emitter.on("e", ran.append, priority=EventPriority.HIGH)
    emitter.emit("e", 1)
    assert ran == [1, 1]
    emitter.remove_listener("e", ran.append)  # removes both registrations
    assert emitter.emit("e", 2)["listeners_executed"] == 0


def test_a_raising_sync_listener_is_logged_and_the_others_still_run() -> None:
    emitter = EventEmitter()
    ran: list[str] = []

    def broken(x: int) -> None:
        ran.append("broken")
        raise ValueError("logged, not raised")

    emitter.on("e", broken, priority=EventPriority.HIGH)
    emitter.on("e", lambda x: ran.append("next"))
    emitter.emit("e", 1)  # does not raise
    assert ran == ["broken", "next"]


def test_event_cancelled_error_stops_the_remaining_listeners_and_is_raised() -> None:
    emitter = EventEmitter()
    ran: list[str] = []

    def stop_here(x: int) -> None:
        ran.append("stop_here")
        raise EventCancelledError("stop")

    emitter.on("e", lambda x: ran.append("first"), priority=EventPriority.HIGH)
    emitter.on("e", stop_here)
    emitter.on("e", lambda x: ran.append("never"), priority=EventPriority.LOW)
    with pytest.raises(EventCancelledError):
        emitter.emit("e", 1)
    assert ran == ["first", "stop_here"]


def test_once_remove_all_listeners_and_on_before_once_in_one_level() -> None:
    emitter = EventEmitter()
    ran: list[str] = []
    emitter.once("e", lambda x: ran.append("once"))
    emitter.on("e", lambda x: ran.append("on"))  # registered later, runs first
    emitter.emit("e", 1)
    emitter.emit("e", 2)
    assert ran == ["on", "once", "on"]
    emitter.remove_all_listeners("e")
    assert emitter.emit("e", 3)["listeners_executed"] == 0


async def test_async_listeners_are_unawaited_tasks_and_ignore_priority() -> None:
    emitter = EventEmitter()
    order: list[str] = []

    async def async_normal(x: int) -> None:
        order.append("async NORMAL")

    def sync_low(x: int) -> None:
        order.append("sync LOW")

    emitter.on("e", async_normal)
    emitter.on("e", sync_low, priority=EventPriority.LOW)
    stats = emitter.emit("e", 1)
    assert isinstance(stats, dict) and stats["listeners_executed"] == 2
    assert order == ["sync LOW"]  # emit returned; the async listener has not run
    await asyncio.sleep(0)
    assert order == ["sync LOW", "async NORMAL"]  # LOW ran before NORMAL


async def test_async_listener_errors_never_reach_the_caller() -> None:
    emitter = EventEmitter()
    failed = asyncio.Event()

    async def broken(x: int) -> None:
        failed.set()
        raise ValueError("lost")

    emitter.on("e", broken)
    stats = emitter.emit("e", 1)  # does not raise
    await asyncio.wait_for(failed.wait(), 2)
    assert stats["listeners_executed"] == 1 and not stats["cancelled"]


# the fact under test: Nexios calls the async listener and drops the coroutine, which Python
# reports as never awaited once pytest lets go of the logged error that holds it
@pytest.mark.filterwarnings("ignore:coroutine .*listener' was never awaited:RuntimeWarning")
def test_async_listeners_do_not_run_without_a_loop() -> None:
    emitter = EventEmitter()
    ran: list[int] = []

    async def listener(x: int) -> None:
        ran.append(x)

    emitter.on("e", listener)
    stats = emitter.emit("e", 1)
    assert stats["listeners_executed"] == 0 and ran == []


def test_there_is_no_off_and_no_medium() -> None:
    app = NexiosApp()
    assert not hasattr(app.events, "off")
    assert not hasattr(app.events.namespace("ui"), "off")
    with pytest.raises(AttributeError):
        app.events.off("data.received")  # type: ignore[attr-defined]
    # day25.install() aliases MEDIUM onto Nexios' enum (so the lesson's snippet runs
    # verbatim); other tests in this process may have called it, so ask a fresh one.
    fresh = subprocess.run(
        [sys.executable, "-c", "from nexios.events import EventPriority as P; P.MEDIUM"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fresh.returncode != 0 and "AttributeError" in fresh.stderr and "MEDIUM" in fresh.stderr
    assert "MEDIUM" not in EventPriority.__members__
    assert [p.name for p in EventPriority] == ["HIGHEST", "HIGH", "NORMAL", "LOW", "LOWEST"]
    assert hasattr(app.events, "remove_listener") and hasattr(app.events, "remove_all_listeners")


def test_no_wildcards_on_nexios_namespaces() -> None:
    emitter = EventEmitter()
    heard: list[Any] = []
    emitter.on("ui", heard.append)
    emitter.on("ui:*", heard.append)
    emitter.namespace("ui").emit("button.click", "submit")
    assert heard == []


def _asgi_websocket(send: Callable[[dict[str, Any]], Awaitable[None]]) -> WebSocket:
    """A real nexios WebSocket whose ASGI transport is ``send``: we control timing."""

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    scope = {"type": "websocket", "path": "/", "headers": [], "query_string": b""}
    return WebSocket(scope, receive, send)


async def _accepted(send: Callable[[dict[str, Any]], Awaitable[None]]) -> WebSocket:
    ws = _asgi_websocket(send)
    await ws.accept()
    return ws


def test_channel_needs_payload_type() -> None:
    async def send(message: dict[str, Any]) -> None: ...

    with pytest.raises(TypeError, match="payload_type"):
        Channel(websocket=_asgi_websocket(send))  # type: ignore[call-arg]


async def test_group_send_breaks_when_a_channel_joins_during_the_send() -> None:
    got: list[str] = []

    async def slow_send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            got.append("a")
            await asyncio.sleep(0.01)  # a real network send can yield here too

    async def fast_send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            got.append("late")

    first = Channel(await _accepted(slow_send), payload_type="json")
    await ChannelBox.add_channel_to_group(first, "chat_lobby")
    sending = asyncio.create_task(ChannelBox.group_send("chat_lobby", {"text": "hi"}))
    await asyncio.sleep(0.001)  # group_send is now inside first's send
    newcomer = Channel(await _accepted(fast_send), payload_type="json")
    await ChannelBox.add_channel_to_group(newcomer, "chat_lobby")
    with pytest.raises(RuntimeError, match="dictionary changed size during iteration"):
        await sending


async def test_one_dead_member_aborts_group_send_for_everyone_after_it() -> None:
    got: list[str] = []

    def sender(name: str, dead: bool = False) -> Callable[[dict[str, Any]], Awaitable[None]]:
        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send":
                if dead:
                    raise ConnectionResetError("peer gone")  # what a dead socket gives
                got.append(name)

        return send

    for name, dead in [("alice", False), ("bob", True), ("carol", False)]:
        channel = Channel(await _accepted(sender(name, dead)), payload_type="json")
        await ChannelBox.add_channel_to_group(channel, "chat_lobby")
    with pytest.raises(WebSocketDisconnect):
        await ChannelBox.group_send("chat_lobby", {"text": "hi"})
    assert got == ["alice"]  # carol never got the message


def _lesson_app() -> NexiosApp:
    """The lesson's connection-events and complete-chat handlers, on real nexios."""
    app = NexiosApp()

    @app.ws_route("/chat")
    async def chat_handler(ws: WebSocket) -> None:
        await ws.accept()
        await app.events.emit("ws.connected", {"client": ws.client})  # type: ignore[misc]
        try:
            while True:
                message = await ws.receive_json()
                await app.events.emit("chat.message", message)  # type: ignore[misc]
        except Exception as e:
            await app.events.emit("ws.error", {"error": str(e)})  # type: ignore[misc]

    @app.ws_route("/never-accepts/{room}")
    async def never_accepts(ws: WebSocket) -> None:
        channel = Channel(websocket=ws, payload_type="json")
        await ChannelBox.add_channel_to_group(channel, "chat_lobby")
        try:
            while True:
                await ws.receive_json()
        finally:
            await ChannelBox.remove_channel_from_group(channel, "chat_lobby")

    return app


async def test_awaited_emit_in_a_ws_handler_closes_the_socket_with_1011() -> None:
    with BackgroundServer(_lesson_app()) as server:
        async with websockets.connect(server.ws_url("/chat"), open_timeout=5) as client:
            with pytest.raises(websockets.ConnectionClosedError) as info:
                await asyncio.wait_for(client.recv(), 5)
    assert info.value.rcvd is not None and info.value.rcvd.code == 1011


async def test_a_handler_that_never_accepts_sends_1011_and_the_client_is_rejected() -> None:
    app = _lesson_app()
    sent: list[dict[str, Any]] = []
    incoming = [{"type": "websocket.connect"}]

    async def receive() -> dict[str, Any]:
        if incoming:
            return incoming.pop()
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    path = "/never-accepts/lobby"
    scope = {
        "type": "websocket",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [],
        "scheme": "ws",
        "server": ("testserver", 80),
        "client": ("testclient", 1),
        "root_path": "",
        "subprotocols": [],
        "asgi": {"version": "3.0"},
    }
    await asyncio.wait_for(app(scope, receive, send), 5)
    assert [(m["type"], m.get("code")) for m in sent] == [("websocket.close", 1011)]
    # Over a real server a close before accept becomes a refused handshake.
    with BackgroundServer(_lesson_app()) as server, pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(server.ws_url(path), open_timeout=5) as client:
            await client.send(json.dumps({"text": "hi"}))
    assert info.value.response.status_code == 403
