"""Bug: parse_frame converts the text field with str() instead of checking its type, so a number, null, a list or an object is relayed as text ("5", "None", ...).

Breaks: "**`text`** must be a `str`: not a number, `null`, a list or an object."
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
DROPPED_CLOSE = 1011


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _describe(value: object) -> str:
    """A short, always sendable description of a client's value."""
    if isinstance(value, str):
        quoted = repr(value)
        return quoted if len(quoted) <= 40 else quoted[:37] + "..."
    return "a JSON " + type(value).__name__


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a ping or message command, else ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_describe(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = str(data["text"])
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            return False
        conns = users.get(user)
        if conns is None or conn not in conns:
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
    """Send frame to a snapshot of conns side by side; return the members that failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send_one(conn: Any) -> None:
        await asyncio.wait_for(conn.send_text(text), timeout)

    outcomes = await asyncio.gather(*(send_one(c) for c in members), return_exceptions=True)
    return [conn for conn, outcome in zip(members, outcomes) if isinstance(outcome, BaseException)]


class ChatServer:
    """The state of one app: presence, per-room seq and locks, and who each connection is."""

    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.users: dict[Any, str] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def reply(self, ws: Any, frame: dict[str, Any]) -> bool:
        """Send one frame to one connection; False if it is gone."""
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.timeout)
        except Exception:
            return False
        return True

    def close_later(self, ws: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(ws.close(code=DROPPED_CLOSE), self.timeout)
            except Exception:
                pass

        task = asyncio.get_running_loop().create_task(close())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (the caller holds its lock) and drop who failed."""
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.timeout)
        for conn in failed:
            await self.drop(room, conn, close=True)

    async def drop(self, room: str, conn: Any, *, close: bool) -> None:
        user = self.users.pop(conn, None)
        if user is None:
            return
        if close:
            self.close_later(conn)
        if self.presence.leave(room, user, conn):
            await self.events.emit("chat.left", {"room": room, "user": user})
            await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def enter(self, room: str, user: str, ws: Any) -> bool:
        async with self.lock(room):
            users = sorted(set(self.presence.roster(room)) | {user})
            if not await self.reply(ws, {"type": "roster", "room": room, "users": users}):
                return False
            self.users[ws] = user
            if self.presence.join(room, user, ws):
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
        return ws in self.users

    async def leave(self, room: str, ws: Any) -> None:
        async with self.lock(room):
            await self.drop(room, ws, close=False)

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            number = self.seq.get(room, 0) + 1
            self.seq[room] = number
            frame = {
                "type": "message",
                "room": room,
                "user": payload["user"],
                "text": payload["text"],
                "seq": number,
            }
            await self.send_room(room, frame)

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error",
                    "code": "bad_request",
                    "message": f"missing or invalid {what}: 1-32 of A-Z a-z 0-9 _ . -",
                }))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            if await self.enter(room, user, ws):
                await self.receive_loop(room, user, ws)
        except WebSocketDisconnect:
            pass
        finally:
            await self.leave(room, ws)

    async def receive_loop(self, room: str, user: str, ws: Any) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect" or ws not in self.users:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                error = str(exc)
                if not await self.reply(ws, {"type": "error", "code": "bad_frame", "message": error}):
                    return
                await self.events.emit("ws.error", {"room": room, "user": user, "error": error})
                continue
            if command["type"] == "ping":
                if not await self.reply(ws, {"type": "pong"}):
                    return
            else:
                await self.events.emit(
                    "room.message", {"room": room, "user": user, "text": command["text"]}
                )


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    chat = ChatServer(app.events, send_timeout)
    app.events.on("room.message", chat.on_message)

    @app.ws_route("/chat/{room}")
    async def chat_route(ws: WebSocket) -> None:
        await chat.serve(ws)

    return app
