"""Exercise 3: chat_broadcasting, the app's state in a small ChatServer object, one per create_app()."""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

ALLOWED = frozenset(string.ascii_letters + string.digits + "_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return 1 <= len(value) <= 32 and all(ch in ALLOWED for ch in value)


def _kind_of(value: object) -> str:
    return "null" if value is None else type(value).__name__


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frame: only JSON text frames are understood")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but a {_kind_of(data)}")
    kind = data.get("type")
    match kind:
        case str() if kind == "ping":
            return {"type": "ping"}
        case str() if kind == "message":
            pass
        case None if "type" not in data:
            raise ValueError("missing 'type'")
        case str():
            raise ValueError(f"unknown type {kind[:32]!r}")
        case _:
            raise ValueError(f"'type' must be a string, not a {_kind_of(kind)}")
    if "text" not in data:
        raise ValueError("message without 'text'")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"'text' must be a string, not a {_kind_of(text)}")
    if text == "":
        raise ValueError("'text' is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set)
        )

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._rooms[room][user]
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        tabs = users.get(user) if users is not None else None
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        users = self._rooms.get(room)
        return sorted(users) if users else []

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        users = self._rooms.get(room)
        out: list[Hashable] = []
        if users:
            for tabs in users.values():
                out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def deliver(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(deliver(conn)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


class ChatServer:
    """Everything one app knows: presence, seq counters, one lock per room."""

    def __init__(self, bus: day25.EventBus, send_timeout: float) -> None:
        self.bus = bus
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: defaultdict[str, int] = defaultdict(int)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.user_of: dict[Any, str] = {}
        self.background: set[asyncio.Task[None]] = set()

    async def _close(self, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
        except Exception:
            pass

    async def _room_send(self, room: str, frame: dict[str, Any]) -> None:
        queue = [frame]
        while queue:
            current, queue = queue[0], queue[1:]
            failed = await broadcast(
                self.presence.connections(room), current, timeout=self.send_timeout
            )
            left = []
            for conn in failed:
                user = self.user_of.pop(conn, None)
                if user is not None and self.presence.leave(room, user, conn):
                    left.append(user)
            for conn in failed:
                task = asyncio.ensure_future(self._close(conn))
                self.background.add(task)
                task.add_done_callback(self.background.discard)
            for user in left:
                await self.bus.emit("chat.left", {"room": room, "user": user})
                queue.append({"type": "leave", "room": room, "user": user})

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.locks[room]:
            self.seq[room] += 1
            await self._room_send(
                room,
                {
                    "type": "message",
                    "room": room,
                    "user": payload["user"],
                    "text": payload["text"],
                    "seq": self.seq[room],
                },
            )

    async def enter(self, room: str, user: str, ws: WebSocket) -> bool:
        async with self.locks[room]:
            first = self.presence.join(room, user, ws)
            self.user_of[ws] = user
            text = json.dumps({"type": "roster", "room": room, "users": self.presence.roster(room)})
            try:
                await asyncio.wait_for(ws.send_text(text), self.send_timeout)
            except (Exception, asyncio.CancelledError) as exc:
                self.user_of.pop(ws, None)
                self.presence.leave(room, user, ws)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return False
            if first:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self._room_send(room, {"type": "join", "room": room, "user": user})
            return True

    async def exit(self, room: str, user: str, ws: WebSocket) -> None:
        async with self.locks[room]:
            if ws not in self.user_of:
                return
            del self.user_of[ws]
            if self.presence.leave(room, user, ws):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                await self._room_send(room, {"type": "leave", "room": room, "user": user})

    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request", "message": why}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            await self.refuse(ws, "bad room: use 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if user is None:
            await self.refuse(ws, "missing user: add ?user=NAME")
            return
        if not valid_name(user):
            await self.refuse(ws, "bad user: use 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if not await self.enter(room, user, ws):
            return
        try:
            await self.receive_loop(room, user, ws)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            await self.exit(room, user, ws)

    async def receive_loop(self, room: str, user: str, ws: WebSocket) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await ws.send_text(
                    json.dumps({"type": "error", "code": "bad_frame", "message": str(exc)})
                )
                await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
            else:
                await self.bus.emit(
                    "room.message", {"room": room, "user": user, "text": command["text"]}
                )


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(day25.install(app), send_timeout)
    app.events.on("room.message", server.on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await server.serve(ws)

    return app
