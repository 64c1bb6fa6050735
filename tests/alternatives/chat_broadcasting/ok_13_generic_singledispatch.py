"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): chat_broadcasting with a ``Generic`` presence table, ``enum.StrEnum`` frame kinds,
``functools.singledispatch`` over decoded JSON, and ``asyncio.wait`` for the broadcast.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import functools
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any, Generic, NamedTuple, TypeVar

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

C = TypeVar("C", bound=Hashable)


class Kind(enum.StrEnum):
    MESSAGE = "message"
    PING = "ping"


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and bool(NAME.fullmatch(value))


@functools.singledispatch
def _command(data: object) -> dict[str, Any]:
    raise ValueError(f"a frame must be a JSON object, not {type(data).__name__}")


@_command.register
def _(data: dict) -> dict[str, Any]:  # type: ignore[type-arg]
    kind = data.get("type")
    # a list or dict is unhashable: compare by type first, then look it up
    if type(kind) is not str or kind not in Kind._value2member_map_:
        raise ValueError(f"unknown frame type {kind!r:.40}")
    if Kind(kind) is Kind.PING:
        return {"type": "ping"}
    text = data.get("text")
    if type(text) is not str or text == "":
        raise ValueError("'text' must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("the frame is nested too deeply") from None
    except ValueError:
        raise ValueError("the frame is not JSON") from None
    return _command(data)


class Tab(NamedTuple, Generic[C]):
    user: str
    conn: C


class Presence(Generic[C]):
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[C]]] = {}

    def join(self, room: str, user: str, conn: C) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        before = len(tabs)
        tabs.add(conn)
        return before == 0

    def leave(self, room: str, user: str, conn: C) -> bool:
        users = self._rooms.get(room, {})
        tabs = users.get(user, set())
        if conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        users.pop(user)
        if not users:
            self._rooms.pop(room)
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def tabs(self, room: str) -> list[Tab[C]]:
        return [Tab(u, c) for u, cs in self._rooms.get(room, {}).items() for c in cs]

    def connections(self, room: str) -> list[C]:
        return [tab.conn for tab in self.tabs(room)]

    def __repr__(self) -> str:
        return f"Presence({ {r: sorted(u) for r, u in self._rooms.items()} !r})"


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = {asyncio.ensure_future(conn.send_text(text)): conn for conn in members}
    done, stalled = await asyncio.wait(tasks, timeout=timeout)
    for task in stalled:
        task.cancel()
    if stalled:
        await asyncio.wait(stalled)  # let the cancellations finish
    bad = set(stalled) | {t for t in done if t.cancelled() or t.exception() is not None}
    return [conn for task, conn in tasks.items() if task in bad]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence: Presence[WebSocket] = Presence()
    user_of: dict[WebSocket, str] = {}
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}

    def lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    def forget(room: str, ws: WebSocket) -> str | None:
        user = user_of.get(ws)
        return user if user is not None and presence.leave(room, user, ws) else None

    async def close(ws: WebSocket) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(1011), send_timeout)

    async def publish(room: str, frame: dict[str, Any]) -> None:
        async with lock(room):
            if frame["type"] == Kind.MESSAGE:
                frame["seq"] = seqs[room] = seqs.get(room, 0) + 1
            dead = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        leaving = [user for ws in dead if (user := forget(room, ws))]
        for user in leaving:
            await left(room, user)
        await asyncio.gather(*map(close, dead))

    async def left(room: str, user: str) -> None:
        await events.emit("chat.left", {"room": room, "user": user})
        await publish(room, {"type": "leave", "room": room, "user": user})

    async def relay(payload: dict[str, str]) -> None:
        await publish(payload["room"], {"type": "message", **payload})

    events.on("room.message", relay)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "room and user: 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        user_of[ws] = user
        try:
            async with lock(room):
                arrived = presence.join(room, user, ws)
                await asyncio.wait_for(
                    ws.send_json({"type": "roster", "room": room, "users": presence.roster(room)}),
                    send_timeout)
            if arrived:
                await events.emit("chat.joined", {"room": room, "user": user})
                await publish(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    continue
                match command:
                    case {"type": "ping"}:
                        await ws.send_json({"type": "pong"})
                    case {"type": "message", "text": text}:
                        await events.emit("room.message", {"room": room, "user": user, "text": text})
        except WebSocketDisconnect:
            pass
        finally:
            if (gone := forget(room, ws)) is not None:
                await left(room, gone)
            user_of.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app
