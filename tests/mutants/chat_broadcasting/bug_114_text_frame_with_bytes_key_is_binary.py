"""Bug: parse_frame calls a frame binary as soon as its message has a "bytes" key, even when that key is None and "text" holds the frame.

Breaks: "Raise ``ValueError("<what is wrong>")`` for a binary frame (``message["text"]`` is None, whatever its bytes)" ... an ASGI text frame may carry both keys, as {"type": "websocket.receive", "text": '{"type": "ping"}', "bytes": None}: its text is not None, so it is a ping and must give {"type": "ping"}, but here parse_frame raises ValueError("binary frame ...") and the sender gets bad_frame instead of a pong.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
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
    return type(value) is str and bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if "bytes" in message:
        raise ValueError("binary frame: send JSON as a text frame")
    raw = message.get("text")
    if raw is None:
        raise ValueError("empty frame: send JSON as a text frame")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got a JSON {type(data).__name__}")
    kind = data.get("type")
    if kind is None:
        raise ValueError('missing "type"')
    if not isinstance(kind, str) or kind not in {"ping", "message"}:
        raise ValueError(f'unknown "type": {repr(kind)[:40]}')
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError('a message needs a "text"')
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f'"text" must be a string, not {type(text).__name__}')
    if not 0 < len(text) <= MAX_TEXT:
        raise ValueError(f'"text" must be 1-{MAX_TEXT} characters long')
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._map: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._map.setdefault(room, {}).setdefault(user, set())
        was_empty = not tabs
        tabs.add(conn)
        return was_empty

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._map.get(room)
        if not users:
            return False
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        users.pop(user)
        if not users:
            self._map.pop(room)
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._map.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self._map.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = list(conns)
    text = json.dumps(frame)
    failed: list[Any] = []

    async def one(conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:
            failed.append(conn)

    await asyncio.gather(*(one(conn) for conn in snapshot))
    return [conn for conn in snapshot if conn in failed]


@dataclass
class Member:
    ws: Any
    user: str


@dataclass
class Room:
    name: str
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    members: dict[int, Member] = {}
    background: set[asyncio.Task[None]] = set()

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room(name)
        return rooms[name]

    async def hang_up(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    def forget(room: Room, failed: list[Any]) -> list[str]:
        left: list[str] = []
        for ws in failed:
            member = members.pop(id(ws), None)
            if member is not None and presence.leave(room.name, member.user, ws):
                left.append(member.user)
            task = asyncio.ensure_future(hang_up(ws))
            background.add(task)
            task.add_done_callback(background.discard)
        return left

    async def send_all(room: Room, frame: dict[str, Any]) -> None:
        todo = [frame]
        while todo:
            failed = await broadcast(presence.connections(room.name), todo.pop(0),
                                     timeout=send_timeout)
            for user in forget(room, failed):
                await bus.emit("chat.left", {"room": room.name, "user": user})
                todo.append({"type": "leave", "room": room.name, "user": user})

    async def on_room_message(event: dict[str, Any]) -> None:
        room = room_of(event["room"])
        async with room.lock:
            room.seq += 1
            await send_all(room, {"type": "message", "room": room.name, "user": event["user"],
                                  "text": event["text"], "seq": room.seq})

    bus.on("room.message", on_room_message)

    async def answer(ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            pass

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(name) or not valid_name(user):
            problem = "bad room name" if not valid_name(name) else "missing or bad user name"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": problem + " (1-32 of [A-Za-z0-9_.-])"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        room = room_of(name)
        try:
            async with room.lock:
                first = presence.join(name, user, ws)
                members[id(ws)] = Member(ws, user)
                roster = {"type": "roster", "room": name, "users": presence.roster(name)}
                if await broadcast([ws], roster, timeout=send_timeout):
                    forget(room, [ws])
                    return
                if first:
                    await bus.emit("chat.joined", {"room": name, "user": user})
                    await send_all(room, {"type": "join", "room": name, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await answer(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await answer(ws, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": name, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with room.lock:
                members.pop(id(ws), None)
                if presence.leave(name, user, ws):
                    await bus.emit("chat.left", {"room": name, "user": user})
                    await send_all(room, {"type": "leave", "room": name, "user": user})

    app.ws_route("/chat/{room}")(chat)
    return app
