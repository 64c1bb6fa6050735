"""Bug: the route strips whitespace off the ``user`` query parameter before validating it, so a name with a trailing newline or surrounding spaces is accepted as the bare name.

Breaks: "a trailing newline (`?user=ann%0A`) is not allowed either" and "If `room` or `user` is missing or invalid, send `{"type": "error", "code": "bad_request", "message": "<what is wrong>"}` and close with code **4400**." ... connecting to /chat/lobby?user=ann%0A (or ?user=%20ann) gets a roster and joins the room as "ann" instead of a bad_request error and close 4400.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    text_frame = message.get("text")
    if not isinstance(text_frame, str):
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(text_frame)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if kind == "ping" and type(kind) is str:
        return {"type": "ping"}
    if not (type(kind) is str and kind == "message"):
        raise ValueError(f"unknown type: {repr(kind)[:60]}")
    text = data.get("text")
    if type(text) is not str:
        raise ValueError("message text must be a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"message text must be 1-{MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> that user's open connections (dict as ordered set)."""

    def __init__(self) -> None:
        self._where: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._where.setdefault(room, {}).setdefault(user, {})
        was_empty = not tabs
        tabs[conn] = None
        return was_empty

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._where.get(room)
        if users is None or conn not in users.get(user, {}):
            return False
        del users[user][conn]
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._where[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._where.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._where.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = list(conns)
    if not snapshot:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(asyncio.wait_for(c.send_text(text), timeout)) for c in snapshot]
    await asyncio.wait(tasks)
    return [c for c, t in zip(snapshot, tasks) if t.exception() is not None]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    counters: dict[str, itertools.count] = {}
    locks: dict[str, asyncio.Lock] = {}
    who: dict[Any, str] = {}

    def lock_of(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def tell(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def to_room(room: str, frame: dict[str, Any]) -> None:
        lost = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not lost:
            return
        departed = []
        for conn in lost:
            if presence.leave(room, who.get(conn, ""), conn):
                departed.append(who[conn])
        await asyncio.gather(*(close_quietly(conn) for conn in lost))
        for user in departed:
            await bus.emit("chat.left", {"room": room, "user": user})
            await to_room(room, {"type": "leave", "room": room, "user": user})

    async def close_quietly(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass

    async def relay(event: dict[str, Any]) -> None:
        room = event["room"]
        async with lock_of(room):
            seq = next(counters.setdefault(room, itertools.count(1)))
            await to_room(room, {"type": "message", "room": room, "user": event["user"],
                                 "text": event["text"], "seq": seq})

    bus.on("room.message", relay)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room", "")
        user = (ws.query_params.get("user") or "").strip()
        for label, value in (("room", room), ("user", user)):
            if not valid_name(value):
                try:
                    await tell(ws, {"type": "error", "code": "bad_request",
                                    "message": f"missing or invalid {label}"})
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        who[ws] = user
        async with lock_of(room):
            new_user = presence.join(room, user, ws)
            try:
                await asyncio.wait_for(
                    tell(ws, {"type": "roster", "room": room, "users": presence.roster(room)}),
                    send_timeout)
            except Exception:
                presence.leave(room, user, ws)
                who.pop(ws, None)
                return
            if new_user:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await to_room(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await tell(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await tell(ws, {"type": "pong"})
                else:
                    await bus.emit("room.message", {"room": room, "user": user,
                                                    "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with lock_of(room):
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await to_room(room, {"type": "leave", "room": room, "user": user})
            who.pop(ws, None)

    return app
