"""Exercise 3: chat_broadcasting.

A design around a small ``Room`` dataclass (its lock, its seq counter, its
member -> user map) kept in a defaultdict inside ``create_app``. The
broadcast starts one task per member and waits for them with a single ``asyncio.wait(timeout=...)``,
cancelling whatever is still pending.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
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
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message command."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame is JSON but not an object ({type(data).__name__})")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        shown = repr(kind)
        raise ValueError(f"unknown or missing type: {shown[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters ({len(text)})")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        first = not tabs
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        if users is None:
            return False
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(user for user, tabs in self._rooms.get(room, {}).items() if tabs)

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def _send(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(_send(c, text)) for c in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    failed = []
    for conn, task in zip(members, tasks):
        if task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


@dataclass
class Room:
    """One room's state inside one app."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0
    owners: dict[Any, str] = field(default_factory=dict)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: defaultdict[str, Room] = defaultdict(Room)

    def lock(room: str) -> asyncio.Lock:
        return rooms[room].lock

    async def close_dropped(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(1011), send_timeout)
        except Exception:
            pass

    async def announce_leave(room: str, user: str) -> None:
        await bus.emit("chat.left", {"room": room, "user": user})
        await send_room(room, {"type": "leave", "room": room, "user": user})

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room; drop the failed members together (lock held)."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        gone: list[str] = []
        for conn in failed:
            user = rooms[room].owners.pop(conn, None)
            if user is not None and presence.leave(room, user, conn):
                gone.append(user)
        for conn in failed:
            await close_dropped(conn)
        for user in gone:
            await announce_leave(room, user)

    @bus.on("room.message")
    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock(room):
            state = rooms[room]
            state.seq += 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": state.seq}
            await send_room(room, frame)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
        except Exception:
            return False
        return True

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            await reply(ws, {"type": "error", "code": "bad_request",
                             "message": f"missing or invalid {what} name"})
            try:
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with lock(room):
            rooms[room].owners[ws] = user
            first = presence.join(room, user, ws)
            if not await reply(ws, {"type": "roster", "room": room,
                                    "users": presence.roster(room)}):
                rooms[room].owners.pop(ws, None)
                if presence.leave(room, user, ws) and not first:
                    await announce_leave(room, user)
                return
            if first:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await send_room(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                try:
                    message = await ws.receive()
                except (WebSocketDisconnect, RuntimeError):
                    break
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    if not await reply(ws, {"type": "error", "code": "bad_frame",
                                            "message": error}):
                        break
                    await bus.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    if not await reply(ws, {"type": "pong"}):
                        break
                    continue
                await bus.emit("room.message",
                               {"room": room, "user": user, "text": command["text"]})
        finally:
            async with lock(room):
                rooms[room].owners.pop(ws, None)
                if presence.leave(room, user, ws):
                    await announce_leave(room, user)

    return app
