"""Bug: the route announces the members its join broadcast dropped with `for user in ...`, which rebinds the route's own `user`, so after such a drop the new tab's messages, errors and final leave are all made in the dropped user's name.

Breaks: "The route emits `room.message` on `app.events` with `{"room": R, "user": U, "text": T}`" and "When a user goes from 1 to 0 connections: `{"type": "leave", "room": R, "user": U}` to everyone still there." ... bob has stopped reading; cy connects, and her join broadcast drops bob (his leave is announced, correctly); then cy says "hi" and everyone sees `"user": "bob"`; when cy closes, no leave is sent for her and she stays in every later roster.
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
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frames are not allowed")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError("no type" if "type" not in data else f"unknown type {repr(kind)[:40]}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text is missing or not a string")
    if not 0 < len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1 to {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._rooms.setdefault(room, {})
        arrived = user not in users
        users.setdefault(user, set()).add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room, {})
        if conn not in users.get(user, ()):
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            self._rooms.pop(room, None)
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(m.send_text(text), timeout) for m in members), return_exceptions=True)
    return [m for m, outcome in zip(members, outcomes) if isinstance(outcome, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seq: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    names: dict[Any, str] = {}  # connection -> user
    dropped: set[Any] = set()
    closing: set[asyncio.Task[None]] = set()

    def lock_of(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    async def send_room(room: str, frame: dict[str, Any]) -> list[str]:
        """Send to the room; forget every member that failed; return the users who left."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        left = []
        for ws in failed:
            dropped.add(ws)
            name = names.get(ws)
            if name is not None and presence.leave(room, name, ws):
                left.append(name)
            task = asyncio.ensure_future(close_1011(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        return left

    async def announce_leave(room: str, who: str) -> None:
        await events.emit("chat.left", {"room": room, "user": who})
        for other in await send_room(room, {"type": "leave", "room": room, "user": who}):
            await announce_leave(room, other)

    async def tell(ws: Any, frame: dict[str, Any]) -> bool:
        return not await broadcast([ws], frame, timeout=send_timeout)

    @events.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock_of(room):
            seq[room] = seq.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": msg["user"],
                     "text": msg["text"], "seq": seq[room]}
            for gone in await send_room(room, frame):
                await announce_leave(room, gone)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            message = "invalid room name" if not valid_name(room) else "invalid user name"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": message}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        names[ws] = user
        try:
            async with lock_of(room):
                arrived = presence.join(room, user, ws)
                if not await tell(ws, {"type": "roster", "room": room,
                                       "users": presence.roster(room)}):
                    presence.leave(room, user, ws)
                    return
                if arrived:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    for user in await send_room(room, {"type": "join", "room": room, "user": user}):
                        await announce_leave(room, user)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws in dropped:
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await tell(ws, {"type": "error", "code": "bad_frame",
                                           "message": str(exc)}):
                        break
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    if not await tell(ws, {"type": "pong"}):
                        break
                else:
                    await events.emit("room.message", {"room": room, "user": user,
                                                       "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with lock_of(room):
                names.pop(ws, None)
                dropped.discard(ws)
                if presence.leave(room, user, ws):
                    await announce_leave(room, user)

    return app
