"""Bug: a bad_frame error is sent to every open tab of the sending user (via presence), not only to the connection that sent the malformed frame.

Breaks: "the sender gets `{"type": "error", "code": "bad_frame", ...}`" and "the connection **stays open**, and nobody else receives anything".
"""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0

ALLOWED = frozenset(string.ascii_letters + string.digits + "_.-")
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """A str of 1-32 characters, every one of them among the 64 allowed."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 32
        and all(ch in ALLOWED for ch in value)
    )


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one ASGI receive message into a command, or raise ValueError."""
    try:
        raw = message["text"]
    except (KeyError, TypeError):
        raw = None
    if not isinstance(raw, str):
        raise ValueError("binary frame: frames must be JSON text")
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    if not any(isinstance(kind, str) and kind == k for k in KINDS):
        raise ValueError(f"unknown or missing type: {repr(kind)[:60]}")
    if kind == "ping":
        return {"type": "ping"}
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1 to {MAX_TEXT} characters, got {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> that user's open connections (a dict used as an ordered set)."""

    def __init__(self) -> None:
        self._map: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._map.setdefault(room, {}).setdefault(user, {})
        was_empty = len(tabs) == 0
        tabs[conn] = None
        return was_empty

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._map.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del self._map[room][user]
        if not self._map[room]:
            del self._map[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._map.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._map.get(room, {}).values() for conn in tabs]


async def _deliver(conn: Any, text: str, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)
    except Exception:  # noqa: BLE001 - TimeoutError or a dead socket: both mean dropped
        return False
    return True


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Serialise once, send side by side to a snapshot, return the members that failed."""
    snapshot = tuple(conns)
    text = json.dumps(frame)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_deliver(conn, text, timeout)) for conn in snapshot]
    return [conn for conn, task in zip(snapshot, tasks) if not task.result()]


@dataclass
class Room:
    name: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    owner: dict[Any, str] = {}

    def room_of(name: str) -> Room:
        found = rooms.get(name)
        if found is None:
            found = rooms[name] = Room(name)
        return found

    async def shut(conn: Any) -> None:
        try:
            async with asyncio.timeout(send_timeout):
                await conn.close(code=1011)
        except Exception:  # noqa: BLE001
            pass

    async def announce(room: Room, frame: dict[str, Any]) -> None:
        """Send to the room and handle drops; the caller holds room.lock."""
        pending = [frame]
        while pending:
            current = pending.pop(0)
            dropped = await broadcast(presence.connections(room.name), current,
                                      timeout=send_timeout)
            left = [owner[c] for c in dropped
                    if c in owner and presence.leave(room.name, owner[c], c)]
            for conn in dropped:
                await shut(conn)
            for user in left:
                await events.emit("chat.left", {"room": room.name, "user": user})
            pending.extend({"type": "leave", "room": room.name, "user": u} for u in left)

    async def relay(payload: dict[str, Any]) -> None:
        room = room_of(payload["room"])
        async with room.lock:
            room.seq += 1
            await announce(room, {"type": "message", "room": room.name,
                                  "user": payload["user"], "text": payload["text"],
                                  "seq": room.seq})

    events.on("room.message", relay)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(name):
            problem = "invalid or missing room name"
        elif not valid_name(user):
            problem = "invalid or missing user name"
        if problem is not None:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:  # noqa: BLE001
                pass
            return
        room = room_of(name)
        owner[ws] = user
        try:
            async with room.lock:
                first = presence.join(name, user, ws)
                await ws.send_text(json.dumps(
                    {"type": "roster", "room": name, "users": presence.roster(name)}))
                if first:
                    await events.emit("chat.joined", {"room": name, "user": user})
                    await announce(room, {"type": "join", "room": name, "user": user})
            while True:
                received = await ws.receive()
                if received["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(received)
                except ValueError as exc:
                    error_frame = {"type": "error", "code": "bad_frame", "message": str(exc)}
                    tabs = [c for c in presence.connections(name) if owner.get(c) == user]
                    await broadcast(tabs or [ws], error_frame, timeout=send_timeout)
                    await events.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text('{"type": "pong"}')
                else:
                    await events.emit("room.message",
                                      {"room": name, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, Exception):  # noqa: BLE001 - a gone socket is a leave
            pass
        finally:
            async with room.lock:
                if presence.leave(name, user, ws):
                    await events.emit("chat.left", {"room": name, "user": user})
                    await announce(room, {"type": "leave", "room": name, "user": user})
            owner.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app
