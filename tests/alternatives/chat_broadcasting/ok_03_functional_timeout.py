"""OK variant (style: module-level helpers and closures; Presence indexed by
(room, user) -> set plus a reverse conn -> (room, user) map; each send bounded by
``async with asyncio.timeout(...)`` in a helper that returns True/False, run side
by side with ``gather``; ``collections.defaultdict`` of locks and of
``itertools.count`` seq counters; the route reads with ``receive()`` and raises its
own ``WebSocketDisconnect`` on a disconnect message).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and bool(re.fullmatch(r"[A-Za-z0-9_.\-]{1,32}", value, re.ASCII))


def _fail(reason: str) -> None:
    raise ValueError(reason)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command, or ValueError (never anything else)."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        _fail("binary or empty frame; send a JSON object as text")
    try:
        data = json.loads(message["text"])
    except Exception:  # JSONDecodeError, RecursionError, int-size limit, ...
        _fail("the frame is not valid JSON")
    if not isinstance(data, dict):
        _fail("the frame is not a JSON object")
    match data.get("type", None):
        case "ping":
            return {"type": "ping"}
        case "message":
            text = data.get("text")
            if not isinstance(text, str) or text == "":
                _fail("a message needs a non-empty string text")
            if len(text) > MAX_TEXT:
                _fail(f"text longer than {MAX_TEXT} characters")
            return {"type": "message", "text": text}
        case None:
            _fail("the frame has no type")
        case _:
            _fail("the frame's type is unknown")
    raise AssertionError("unreachable")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._conns: dict[tuple[str, str], set[Hashable]] = {}
        self._users: dict[str, set[str]] = defaultdict(set)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        new = key not in self._conns
        self._conns.setdefault(key, set()).add(conn)
        self._users[room].add(user)
        return new

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        conns = self._conns.get(key)
        if conns is None or conn not in conns:
            return False
        conns.discard(conn)
        if conns:
            return False
        del self._conns[key]
        self._users[room].discard(user)
        if not self._users[room]:
            del self._users[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [c for u in sorted(self._users.get(room, ())) for c in self._conns[(room, u)]]


async def _send(conn: Any, text: str, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)
        return True
    except Exception:
        return False


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = tuple(conns)
    text = json.dumps(frame, ensure_ascii=True)
    results = await asyncio.gather(*(_send(c, text, timeout) for c in snapshot))
    return [c for c, ok in zip(snapshot, results) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    where: dict[Any, tuple[str, str]] = {}
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    counters: defaultdict[str, itertools.count] = defaultdict(lambda: itertools.count(1))

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        todo = [frame]
        while todo:
            dropped = await broadcast(presence.connections(room), todo.pop(0), timeout=send_timeout)
            for conn in dropped:
                _, user = where.get(conn, (room, None))
                if user is not None and presence.leave(room, user, conn):
                    await events.emit("chat.left", {"room": room, "user": user})
                    todo.append({"type": "leave", "room": room, "user": user})
                try:
                    async with asyncio.timeout(send_timeout):
                        await conn.close(1011)
                except Exception:
                    pass

    @events.on("room.message")
    async def broadcast_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with locks[room]:
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": next(counters[room])}
            await send_room(room, frame)

    async def next_frame(ws: WebSocket) -> dict[str, Any]:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        return message

    @app.ws_route("/chat/{room}")
    async def chat_room(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": f"missing or invalid {what}"})
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        where[ws] = (room, user)
        try:
            async with locks[room]:
                arrived = presence.join(room, user, ws)
                async with asyncio.timeout(send_timeout):
                    await ws.send_json({"type": "roster", "room": room,
                                        "users": presence.roster(room)})
                if arrived:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await send_room(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await next_frame(ws)
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        except Exception:
            pass  # the socket died under a send: it leaves like a close
        finally:
            async with locks[room]:
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await send_room(room, {"type": "leave", "room": room, "user": user})
            where.pop(ws, None)

    return app
