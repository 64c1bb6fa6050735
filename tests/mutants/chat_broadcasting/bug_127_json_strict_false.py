"""Bug: parse_frame decodes with ``json.loads(raw, strict=False)`` (so that multi-line texts typed into a test "just work"), which accepts raw control characters such as a newline or tab inside a JSON string, text that json.loads itself refuses.

Breaks: "**not JSON**: whatever `json.loads` refuses." and "the sender gets `{"type": "error", "code": "bad_frame", "message": "<what was wrong>"}`" ... the text frame '{"type": "message", "text": "line1<raw newline>line2"}' (a real newline byte inside the string) is relayed to the whole room as a message with a seq, instead of a bad_frame error and a ws.error.
"""

from __future__ import annotations

import asyncio
import enum
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


class Kind(str, enum.Enum):
    MESSAGE = "message"
    PING = "ping"


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are refused")
    try:
        data = json.loads(raw, strict=False)  # texts may span several lines
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in (Kind.MESSAGE.value, Kind.PING.value):
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == Kind.PING.value:
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("the text is missing or not a string")
    if len(text) < 1:
        raise ValueError("the text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.where: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.where.setdefault(room, {}).setdefault(user, set())
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.where.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self.where[room][user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.where.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        conns: list[Hashable] = []
        for tabs in self.where.get(room, {}).values():
            conns.extend(tabs)
        return conns


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    data = json.dumps(frame)
    results = await asyncio.gather(
        *(asyncio.wait_for(m.send_text(data), timeout) for m in members), return_exceptions=True)
    return [m for m, r in zip(members, results) if isinstance(r, Exception)]


class Room:
    """One room: its name, its message counter and the lock that orders its frames."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.seq = 0
        self.lock = asyncio.Lock()

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    owner: dict[Any, str] = {}

    def room_of(name: str) -> Room:
        return rooms.setdefault(name, Room(name))

    async def send(room: Room, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room.name), frame, timeout=send_timeout)
        if not failed:
            return
        left = []
        for conn in failed:
            if presence.leave(room.name, owner[conn], conn):
                left.append(owner[conn])
        for conn in failed:
            try:
                await asyncio.wait_for(conn.close(code=1011), send_timeout)
            except Exception:
                pass
        for user in left:
            await events.emit("chat.left", {"room": room.name, "user": user})
            await send(room, {"type": "leave", "room": room.name, "user": user})

    @events.on("room.message")
    async def broadcast_message(msg: dict[str, Any]) -> None:
        room = room_of(msg["room"])
        async with room.lock:
            await send(room, {"type": "message", "room": room.name, "user": msg["user"],
                              "text": msg["text"], "seq": room.next_seq()})

    async def answer(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(name) and valid_name(user)):
            try:
                await answer(ws, {"type": "error", "code": "bad_request",
                                  "message": "room and user: 1-32 characters of [A-Za-z0-9_.-]"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        room = room_of(name)
        owner[ws] = user
        async with room.lock:
            joined = presence.join(name, user, ws)
            try:
                await asyncio.wait_for(answer(ws, {"type": "roster", "room": name,
                                                   "users": presence.roster(name)}), send_timeout)
            except Exception:
                presence.leave(name, user, ws)
                owner.pop(ws, None)
                return
            if joined:
                await events.emit("chat.joined", {"room": name, "user": user})
                await send(room, {"type": "join", "room": name, "user": user})
        try:
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await answer(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                if command["type"] == Kind.PING.value:
                    await answer(ws, {"type": "pong"})
                else:
                    await events.emit("room.message", {"room": name, "user": user,
                                                       "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with room.lock:
                if presence.leave(name, user, ws):
                    await events.emit("chat.left", {"room": name, "user": user})
                    await send(room, {"type": "leave", "room": name, "user": user})
            owner.pop(ws, None)

    return app
