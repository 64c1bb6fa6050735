"""Exercise 3: chat_broadcasting.

Class-based: create_app() builds one ChatServer, which owns everything an app
has (its Presence, a Room record per room with its lock and seq counter, its
send_timeout) and registers its bound methods as the route and the
room.message listener. Every send to a room happens under the room's lock, so
all members see one order; broadcast() starts one task per member, waits once
for all of them with asyncio.wait, cancels the ones still running at the
deadline and reports them with the ones that raised. A drop forgets all failed
members, closes them with 1011 (each close on its own, so one that is gone
cannot stop another), then announces the users who went 1 -> 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

MAX_NAME = 32
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
DROPPED_CLOSE = 1011
SEND_TIMEOUT = 2.0
NAME_PUNCTUATION = "_.-"


def valid_name(value: object) -> bool:
    """A str of 1-32 characters, each an ASCII letter, an ASCII digit, '_', '.' or '-'."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_NAME:
        return False
    return value.isascii() and all(c.isalnum() or c in NAME_PUNCTUATION for c in value)


def _quote(value: Any) -> str:
    """A short, always-sendable description of a JSON value."""
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 30 else text[:27] + "..."
    if isinstance(value, (list, dict)):
        return f"a JSON {'array' if isinstance(value, list) else 'object'}"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frame: frames are JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {_quote(data)}")
    kind = data.get("type", None)
    match kind:
        case "ping":
            return {"type": "ping"}
        case "message":
            pass
        case _:
            if "type" not in data:
                raise ValueError("missing type")
            raise ValueError(f"unknown type {_quote(kind)}")
    if "text" not in data:
        raise ValueError("message without a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {_quote(text)}")
    if text == "":
        raise ValueError("empty text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text of {len(text)} characters (at most {MAX_TEXT})")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> that user's open connections (a dict as a set)."""

    def __init__(self) -> None:
        self._tabs: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._tabs.setdefault(room, {})
        if user in users:
            users[user][conn] = None
            return False
        users[user] = {conn: None}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        users = self._tabs[room]
        del users[user]
        if not users:
            del self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._tabs.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._tabs.get(room, {}).values() for conn in tabs]

    def owner(self, room: str, conn: Hashable) -> str | None:
        return next((user for user, tabs in self._tabs.get(room, {}).items() if conn in tabs),
                    None)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the failed members."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(send(conn)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)  # ended, not left running
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


class ChatServer:
    """One app's chat: its presence, its rooms, its timeout, its bus."""

    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self._closers: set[asyncio.Task[None]] = set()

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room()
        return self.rooms[name]

    # -- sending to a room (its lock held) ------------------------------------------------
    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        if not failed:
            return
        last_tabs = []
        for conn in failed:
            user = self.presence.owner(room, conn)
            if user is not None and self.presence.leave(room, user, conn):
                last_tabs.append(user)
        for conn in failed:
            closer = asyncio.ensure_future(self._close(conn))
            self._closers.add(closer)
            closer.add_done_callback(self._closers.discard)
        for user in last_tabs:
            await self.announce_leave(room, user)

    async def _close(self, conn: Any) -> None:
        with contextlib.suppress(Exception):
            await conn.close(code=DROPPED_CLOSE)

    async def announce_leave(self, room: str, user: str) -> None:
        await self.send_room(room, {"type": "leave", "room": room, "user": user})
        await self.events.emit("chat.left", {"room": room, "user": user})

    async def on_message(self, payload: dict[str, Any]) -> None:
        name = payload["room"]
        room = self.room(name)
        async with room.lock:
            room.seq += 1
            await self.send_room(name, {"type": "message", "room": name,
                                        "user": payload["user"], "text": payload["text"],
                                        "seq": room.seq})

    # -- one connection ------------------------------------------------------------------
    async def to_one(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
            return True
        except Exception:
            return False

    async def route(self, ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if room is None or not valid_name(room):
            problem = f"bad room {_quote(room)}: 1-32 characters of [A-Za-z0-9_.-]"
        elif user is None:
            problem = "missing ?user="
        elif not valid_name(user):
            problem = f"bad user {_quote(user)}: 1-32 characters of [A-Za-z0-9_.-]"
        if problem is not None:
            with contextlib.suppress(Exception):
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": problem}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            return
        lock = self.room(room).lock
        async with lock:
            first = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if not await self.to_one(ws, roster):
                self.presence.leave(room, user, ws)
                return
            if first:
                await self.send_room(room, {"type": "join", "room": room, "user": user})
                await self.events.emit("chat.joined", {"room": room, "user": user})
        try:
            await self.receive_loop(ws, room, user)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with lock:
                if self.presence.leave(room, user, ws):
                    await self.announce_leave(room, user)

    async def receive_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") != "websocket.receive":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                if not await self.to_one(ws, {"type": "error", "code": "bad_frame",
                                              "message": str(exc)}):
                    return
                await self.events.emit("ws.error", {"room": room, "user": user,
                                                    "error": str(exc)})
                continue
            if command["type"] == "ping":
                if not await self.to_one(ws, {"type": "pong"}):
                    return
                continue
            await self.events.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    chat = ChatServer(events, send_timeout)
    events.on("room.message", chat.on_message)
    app.ws_route("/chat/{room}")(chat.route)
    return app
