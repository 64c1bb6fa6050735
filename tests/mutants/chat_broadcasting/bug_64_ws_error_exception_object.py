"""Bug: ws.error is emitted with the ValueError object itself as "error", not the string saying what was wrong.

Breaks: "the app emits `ws.error` on `app.events` with `{"room": R, "user": U, "error": "<what was wrong>"}`" (E is the text of the problem, as in the error frame's message).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """A str of 1 to 32 characters, each one of the 64 allowed (checked as a set)."""
    return isinstance(value, str) and 1 <= len(value) <= 32 and set(value) <= _ALLOWED


def _fail(reason: str) -> ValueError:
    return ValueError(reason)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Return the command of one frame, or raise ValueError; never anything else."""
    text_frame = message.get("text")
    if not isinstance(text_frame, str):
        raise _fail("binary frame: send JSON as a text frame")
    try:
        data = json.loads(text_frame)
    except RecursionError:
        raise _fail("not JSON: nested too deeply") from None
    except ValueError:
        raise _fail("not JSON") from None
    if type(data) is not dict:
        raise _fail("not a JSON object")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if kind != "message" or not isinstance(kind, str):
        raise _fail("missing type" if kind is None else "unknown type " + repr(kind)[:40])
    if "text" not in data:
        raise _fail("message without text")
    text = data["text"]
    if not isinstance(text, str):
        raise _fail("text is not a string")
    if not 0 < len(text) <= MAX_TEXT:
        raise _fail("text must be 1 to 2000 characters")
    return {"type": "message", "text": text}


class Presence:
    """(room, user) -> ordered dict of that user's connections."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], dict[Hashable, None]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None:
            self._tabs[key] = {conn: None}
            return True
        tabs[conn] = None
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del self._tabs[key]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted({u for (r, u) in self._tabs if r == room})

    def connections(self, room: str) -> list[Hashable]:
        return [c for (r, _), tabs in self._tabs.items() if r == room for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Serialise once, send to a copy of conns side by side; return those that failed."""
    targets = tuple(conns)
    wire = json.dumps(frame)
    failed: list[Any] = []

    async def one(conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(wire)
        except Exception:
            failed.append(conn)

    async with asyncio.TaskGroup() as group:
        for conn in targets:
            group.create_task(one(conn))
    return [c for c in targets if any(c is f for f in failed)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """Build the app; every piece of state is local to this call."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    owner: dict[int, str] = {}
    room_locks: dict[str, asyncio.Lock] = {}
    counters: dict[str, int] = {}
    keep: set[asyncio.Task] = set()

    def lock_of(room: str) -> asyncio.Lock:
        return room_locks.setdefault(room, asyncio.Lock())

    async def shut(conn: Any) -> None:
        try:
            async with asyncio.timeout(send_timeout):
                await conn.close(code=1011)
        except BaseException:
            pass

    async def send_all(room: str, frame: dict[str, Any]) -> None:
        lost = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        left_users = []
        for conn in lost:
            user = owner.get(id(conn))
            if user is not None and presence.leave(room, user, conn):
                left_users.append(user)
        for conn in lost:
            t = asyncio.create_task(shut(conn))
            keep.add(t)
            t.add_done_callback(keep.discard)
        for user in left_users:
            await bus.emit("chat.left", {"room": room, "user": user})
            await send_all(room, {"type": "leave", "room": room, "user": user})

    async def relay(event: dict[str, Any]) -> None:
        room = event["room"]
        async with lock_of(room):
            counters[room] = counters.get(room, 0) + 1
            await send_all(room, {"type": "message", "room": room, "user": event["user"],
                                  "text": event["text"], "seq": counters[room]})

    bus.on("room.message", relay)

    async def refuse(ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": why}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            return await refuse(ws, "missing or invalid room name")
        if not valid_name(user):
            return await refuse(ws, "missing or invalid user name")
        owner[id(ws)] = user
        try:
            async with lock_of(room):
                first = presence.join(room, user, ws)
                async with asyncio.timeout(send_timeout):
                    await ws.send_text(json.dumps(
                        {"type": "roster", "room": room, "users": presence.roster(room)}))
                if first:
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await send_all(room, {"type": "join", "room": room, "user": user})
            while True:
                msg = await ws.receive()
                if msg.get("type") == "websocket.disconnect":
                    break
                try:
                    cmd = parse_frame(msg)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await bus.emit("ws.error", {"room": room, "user": user, "error": exc})
                    continue
                if cmd["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": cmd["text"]})
        except (WebSocketDisconnect, Exception):
            pass
        finally:
            async with lock_of(room):
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await send_all(room, {"type": "leave", "room": room, "user": user})
            owner.pop(id(ws), None)

    app.ws_route("/chat/{room}")(chat)
    return app
