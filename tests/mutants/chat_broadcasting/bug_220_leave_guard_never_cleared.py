"""Breaks: "When a user goes from 1 to 0 connections: {"type": "leave", ...} to everyone
still there" (and chat.left on every 1 -> 0). A set of (room, user) pairs, meant so that
"a dropped or closed member's later clean-up must not announce the leave twice", is
never cleared when the user comes back: the first leave is announced; after the user
rejoins (announced fine), their second leave is silent: no leave frame, no chat.left.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import Counter
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and 1 <= len(value) <= 32 and all(c in _ALLOWED for c in value)


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:
        return f"<a deeply nested {type(value).__name__}>"
    return text if len(text) <= 30 else text[:27] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError saying why."""
    if message.get("text") is None:
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(message["text"])
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    match data.get("type"):
        case str() as kind if kind == "ping":
            return {"type": "ping"}
        case str() as kind if kind == "message":
            text = data.get("text")
            match text:
                case str() if 0 < len(text) <= MAX_TEXT:
                    return {"type": "message", "text": text}
                case str() if not text:
                    raise ValueError("'text' must not be empty")
                case str():
                    raise ValueError(f"'text' is too long ({len(text)} > {MAX_TEXT} characters)")
                case None:
                    raise ValueError("'text' is missing or null")
                case _:
                    raise ValueError(f"'text' must be a string, got {type(text).__name__}")
        case None:
            raise ValueError("missing 'type'")
        case other:
            raise ValueError(f"unknown 'type' {_short(other)}")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    Kept as room -> {(user, conn): None} (an ordered set of pairs) and room ->
    Counter(user -> number of open connections).
    """

    def __init__(self) -> None:
        self._pairs: dict[str, dict[tuple[str, Hashable], None]] = {}
        self._counts: dict[str, Counter[str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        pairs = self._pairs.setdefault(room, {})
        counts = self._counts.setdefault(room, Counter())
        if (user, conn) in pairs:
            return False
        pairs[(user, conn)] = None
        counts[user] += 1
        return counts[user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        pairs = self._pairs.get(room)
        if pairs is None or (user, conn) not in pairs:
            return False
        del pairs[(user, conn)]
        counts = self._counts[room]
        counts[user] -= 1
        if counts[user] > 0:
            return False
        del counts[user]
        if not pairs:
            del self._pairs[room]
            del self._counts[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._counts.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for (_user, conn) in self._pairs.get(room, {})]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = tuple(conns)
    text = json.dumps(frame)

    async def attempt(conn: Any) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:
            return False
        return True

    delivered = await asyncio.gather(*map(attempt, snapshot))
    return [conn for conn, ok in zip(snapshot, delivered) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    owner: dict[Any, str] = {}
    counters: dict[str, itertools.count[int]] = {}
    locks: dict[str, asyncio.Lock] = {}
    announced: set[tuple[str, str]] = set()  # leaves already announced: never twice

    def lock_of(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def shut(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        async with lock_of(room):
            if frame["type"] == "message":
                frame["seq"] = next(counters.setdefault(room, itertools.count(1)))
            dead = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not dead:
            return
        departed = [owner[ws] for ws in dead
                    if ws in owner and presence.leave(room, owner[ws], ws)]
        for user in departed:
            await said_goodbye(room, user)
        await asyncio.gather(*map(shut, dead))

    async def said_goodbye(room: str, user: str) -> None:
        if (room, user) in announced:
            return
        announced.add((room, user))
        await bus.emit("chat.left", {"room": room, "user": user})
        await send_room(room, {"type": "leave", "room": room, "user": user})

    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        await send_room(room, {"type": "message", "room": room,
                               "user": payload["user"], "text": payload["text"]})

    bus.on("room.message", relay)

    async def reply(ws: Any, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            which = "room" if not valid_name(room) else "user"
            await reply(ws, {"type": "error", "code": "bad_request",
                             "message": f"invalid {which} name: use 1-32 of A-Z a-z 0-9 _ . -"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        owner[ws] = user
        try:
            async with lock_of(room):
                first = presence.join(room, user, ws)
                await asyncio.wait_for(
                    reply(ws, {"type": "roster", "room": room, "users": presence.roster(room)}),
                    send_timeout)
            if first:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await send_room(room, {"type": "join", "room": room, "user": user})
            async for message in _frames(ws):
                try:
                    command = parse_frame(message)
                except ValueError as problem:
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(problem)})
                    await reply(ws, {"type": "error", "code": "bad_frame", "message": str(problem)})
                    continue
                if command["type"] == "ping":
                    await reply(ws, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, TimeoutError):
            pass
        finally:
            if presence.leave(room, user, ws):
                await said_goodbye(room, user)
            owner.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app


async def _frames(ws: Any):
    """The received messages of ``ws`` until its disconnect."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        yield message
