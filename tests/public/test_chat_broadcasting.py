"""Public checks for exercise 3, chat_broadcasting.

Run them with ``day25 check chat_broadcasting`` or
``python -m pytest tests/public/test_chat_broadcasting.py --submission exercises``.
They talk real WebSockets to your app, served in a separate process. Passing
them is a good sign, not a grade: the graded suite checks more.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from day25.course.harness import AppServer

EXERCISE = "chat_broadcasting"
pytestmark = pytest.mark.asyncio  # also when run without the project's asyncio_mode
Server = Callable[..., AppServer]


@pytest.mark.points(1)
async def test_joining_sends_the_roster_first(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        first = await server.recv_json(ann)
        assert first == {"type": "roster", "room": "lobby", "users": ["ann"]}, (
            "After connecting to /chat/lobby?user=ann, the first frame should be "
            '{"type": "roster", "room": "lobby", "users": ["ann"]} (did you await ws.accept()?). '
            f"Got {first}."
        )
        second = await server.recv_json(ann)
        assert second == {"type": "join", "room": "lobby", "user": "ann"}, (
            f"Next, ann should hear her own join. Got {second}."
        )


@pytest.mark.points(1)
async def test_a_message_reaches_everyone_including_the_sender(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await server.recv_json(ann)
        await server.recv_json(ann)
        async with server.connect("/chat/lobby?user=bob") as bob:
            await server.recv_json(bob)  # roster
            await server.recv_json(bob)  # join bob
            await server.recv_json(ann)  # join bob
            await bob.send(json.dumps({"type": "message", "text": "hi"}))
            want = {"type": "message", "room": "lobby", "user": "bob", "text": "hi", "seq": 1}
            for ws, who in ((bob, "bob (the sender)"), (ann, "ann")):
                got = await server.recv_json(ws)
                assert got == want, f"{who} should receive {want}. Got {got}."
    events = server.events("room.message")
    assert events and events[0]["args"] == [{"room": "lobby", "user": "bob", "text": "hi"}], (
        "Messages should go through app.events: emit 'room.message' with {room, user, text}, "
        "and broadcast from a listener. Use day25.install(app) so app.events is a day25 EventBus."
    )


@pytest.mark.points(1)
async def test_a_bad_frame_gets_an_error_and_the_socket_stays_open(app_server: Server) -> None:
    server = app_server()
    async with server.connect("/chat/lobby?user=ann") as ann:
        await server.recv_json(ann)
        await server.recv_json(ann)
        await ann.send("this is not JSON")
        got = await server.recv_json(ann)
        assert got.get("type") == "error" and got.get("code") == "bad_frame", (
            f'A frame that is not JSON should be answered with {{"type": "error", "code": '
            f'"bad_frame", "message": ...}}. Got {got}.'
        )
        await ann.send(json.dumps({"type": "ping"}))
        got = await server.recv_json(ann)
        assert got == {"type": "pong"}, (
            f"The connection should stay open after a bad frame; got {got}."
        )
    assert server.events("ws.error"), "A bad frame should also emit 'ws.error' on app.events."
