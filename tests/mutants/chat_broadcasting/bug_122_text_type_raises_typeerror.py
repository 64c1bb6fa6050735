"""Bug: parse_frame raises TypeError (the "Pythonic" exception for a value of the wrong type) when a message's text is missing or not a string; the route catches it next to ValueError, so only parse_frame's own contract is broken.

Breaks: "`parse_frame(message) -> dict` | one received frame -> `{"type": "ping"}` or `{"type": "message", "text": T}`, else `ValueError("<what is wrong>")`, and never any other exception" ... parse_frame({"type": "websocket.receive", "text": '{"type": "message", "text": 5}'}) (or a text of null, a list, or no text at all) raises TypeError instead of ValueError.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if type(value) is not str:
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command.

    Raises ValueError for a frame that is not a JSON object with a known type,
    and TypeError when a message's text is not a string.
    """
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("empty text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.setdefault(room, {})
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.get(room, {}).get(user, set())
        if conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self.rooms[room][user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self.rooms.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    payload = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(m.send_text(payload), timeout) for m in members),
        return_exceptions=True,
    )
    return [m for m, outcome in zip(members, outcomes) if isinstance(outcome, BaseException)]


@dataclass
class Room:
    """One room's counter and lock; kept for as long as the app runs."""

    name: str
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


@dataclass
class Chat:
    app: NexiosApp
    send_timeout: float
    presence: Presence = field(default_factory=Presence)
    rooms: dict[str, Room] = field(default_factory=dict)
    users: dict[Any, str] = field(default_factory=dict)

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(name)
        return self.rooms[name]

    async def send_to_room(self, room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.send_timeout)
        if not failed:
            return
        left = [self.users[c] for c in failed if self.presence.leave(room, self.users[c], c)]
        for conn in failed:
            try:
                await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
            except Exception:
                pass
        for user in left:
            await self.app.events.emit("chat.left", {"room": room, "user": user})
            await self.send_to_room(room, {"type": "leave", "room": room, "user": user})

    async def on_room_message(self, msg: dict[str, Any]) -> None:
        room = self.room(msg["room"])
        async with room.lock:
            room.seq += 1
            await self.send_to_room(room.name, {"type": "message", "room": room.name,
                                                "user": msg["user"], "text": msg["text"],
                                                "seq": room.seq})

    async def route(self, ws: WebSocket) -> None:
        await ws.accept()
        name, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not (valid_name(name) and valid_name(user)):
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "room and user must be 1-32 of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        room = self.room(name)
        self.users[ws] = user
        async with room.lock:
            arrived = self.presence.join(name, user, ws)
            try:
                await asyncio.wait_for(ws.send_text(json.dumps(
                    {"type": "roster", "room": name, "users": self.presence.roster(name)})),
                    self.send_timeout)
            except Exception:
                self.presence.leave(name, user, ws)
                self.users.pop(ws, None)
                return
            if arrived:
                await self.app.events.emit("chat.joined", {"room": name, "user": user})
                await self.send_to_room(name, {"type": "join", "room": name, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except (ValueError, TypeError) as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await self.app.events.emit("ws.error", {"room": name, "user": user,
                                                            "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                    continue
                await self.app.events.emit("room.message", {"room": name, "user": user,
                                                            "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with room.lock:
                if self.presence.leave(name, user, ws):
                    await self.app.events.emit("chat.left", {"room": name, "user": user})
                    await self.send_to_room(name, {"type": "leave", "room": name, "user": user})
            self.users.pop(ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    chat = Chat(app, send_timeout)
    app.events.on("room.message", chat.on_room_message)
    app.ws_route("/chat/{room}")(chat.route)
    return app
