"""BUG: valid_name strips "_", "." and "-" and asks isalnum() of the rest, so a name made only of those characters ("_", "...", "-") is refused.

The text it breaks:
"`valid_name(value) -> bool` | a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`"
"`room` and `user` are 1-32 characters of `[A-Za-z0-9_.-]`: those 64 ASCII characters and no others."
"""

from __future__ import annotations

import asyncio
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
DROPPED_CLOSE = 1011


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str) or not 1 <= len(value) <= 32 or not value.isascii():
        return False
    # ASCII letters and digits, plus the three punctuation marks the text allows
    return value.replace("_", "").replace(".", "").replace("-", "").isalnum()


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    if not isinstance(raw, str):
        raise ValueError("the frame holds no text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        if "type" not in data:
            raise ValueError("the frame has no 'type'")
        raise ValueError(f"unknown type {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a 'text'")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    if not text:
        raise ValueError("'text' must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is longer than {MAX_TEXT} characters ({len(text)})")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.get(user)
        if conns is None:
            users[user] = {conn}
            return True
        conns.add(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users:
            return False
        conns = users.get(user)
        if not conns or conn not in conns:
            return False
        conns.discard(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return False
        return True

    results = await asyncio.gather(*(send(conn) for conn in members))
    return [conn for conn, ok in zip(members, results) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    who: dict[Any, tuple[str, str]] = {}  # connection -> (room, user)
    closing: set[asyncio.Task[None]] = set()

    def lock_of(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def send_one(ws: Any, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)

    async def close_dropped(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(DROPPED_CLOSE), send_timeout)
        except Exception:
            pass  # already gone: nothing to close

    async def drop(failed: list[Any]) -> None:
        """Members one broadcast dropped: forget them all, then announce their leaves."""
        gone: list[tuple[str, str]] = []
        for conn in failed:
            place = who.pop(conn, None)
            if place is not None and presence.leave(place[0], place[1], conn):
                gone.append(place)
        for conn in failed:
            task = asyncio.ensure_future(close_dropped(conn))
            closing.add(task)
            task.add_done_callback(closing.discard)
        for room, user in gone:
            await announce_leave(room, user)

    async def to_room(room: str, frame: dict[str, Any]) -> None:
        async with lock_of(room):
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if failed:
            await drop(failed)

    async def announce_leave(room: str, user: str) -> None:
        await events.emit("chat.left", {"room": room, "user": user})
        await to_room(room, {"type": "leave", "room": room, "user": user})

    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock_of(room):
            seq = seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": msg["user"],
                     "text": msg["text"], "seq": seq}
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if failed:
            await drop(failed)

    events.on("room.message", relay)

    async def chat(ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif user is None:
            problem = "the user query parameter is missing"
        elif not valid_name(user):
            problem = "user must be 1-32 characters of [A-Za-z0-9_.-]"
        if problem is not None:
            try:
                await send_one(ws, {"type": "error", "code": "bad_request", "message": problem})
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return

        failed: list[Any] = []
        async with lock_of(room):
            arrived = presence.join(room, user, ws)
            who[ws] = (room, user)
            try:
                await send_one(ws, {"type": "roster", "room": room,
                                    "users": presence.roster(room)})
            except Exception:
                # gone (or stalled) before its roster: it never showed up, nothing to announce
                who.pop(ws, None)
                presence.leave(room, user, ws)
                arrived = None
            else:
                if arrived:
                    failed = await broadcast(presence.connections(room),
                                             {"type": "join", "room": room, "user": user},
                                             timeout=send_timeout)
        if arrived is None:
            await close_dropped(ws)
            return
        if arrived:
            await events.emit("chat.joined", {"room": room, "user": user})
        if failed:
            await drop(failed)

        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    await send_one(ws, {"type": "error", "code": "bad_frame", "message": error})
                    await events.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    await send_one(ws, {"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, asyncio.TimeoutError, OSError, RuntimeError):
            pass  # gone: a leave, not an error
        finally:
            who.pop(ws, None)
            if presence.leave(room, user, ws):
                await announce_leave(room, user)

    app.ws_route("/chat/{room}")(chat)
    return app
