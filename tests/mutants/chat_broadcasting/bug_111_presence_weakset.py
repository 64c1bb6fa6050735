"""Bug: Presence keeps each user's connections in a `weakref.WeakSet`, so a connection that cannot be weakly referenced (a str, an int, a tuple) makes `join` raise TypeError.

Breaks: "`Presence` | room -> user -> that user's open connections: `join(room, user, conn)` is True on 0 -> 1, ..." with the stub's `conn: Hashable` ... `Presence().join("lobby", "ann", "tab-1")` raises `TypeError: cannot create weak reference to 'str' object` (and `leave("lobby", "ann", "tab-1")` quietly returns False); the app itself works because WebSocket objects can be weakly referenced.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any
from weakref import WeakSet

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, not {type(data).__name__}")
    match data.get("type"):
        case "ping":
            return {"type": "ping"}
        case "message":
            pass
        case None:
            raise ValueError("missing type")
        case other:
            raise ValueError(f"unknown type {repr(other)[:30]}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        # weak sets: a connection object that is gone cannot linger in a room
        self._rooms: defaultdict[str, defaultdict[str, WeakSet[Any]]] = defaultdict(
            lambda: defaultdict(WeakSet))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        if room not in self._rooms or user not in self._rooms[room]:
            return False
        tabs = self._rooms[room][user]
        if conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._rooms[room][user]
        if not self._rooms[room]:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        if room not in self._rooms:
            return []
        return sorted(self._rooms[room])

    def connections(self, room: str) -> list[Hashable]:
        if room not in self._rooms:
            return []
        out: list[Hashable] = []
        for tabs in self._rooms[room].values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members whose send failed."""
    snapshot = list(conns)
    if not snapshot:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(asyncio.wait_for(conn.send_text(text), timeout))
             for conn in snapshot]
    await asyncio.wait(tasks)
    return [conn for conn, task in zip(snapshot, tasks) if task.exception() is not None]


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = defaultdict(int)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.user_of: dict[Any, str] = {}
        self.events.on("room.message", self.on_message)

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (its lock held), then drop whoever failed."""
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.timeout)
        await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        """Forget every failed member first, then announce their leaves, then close them."""
        closing: list[Any] = []
        leaving: list[str] = []
        while failed or leaving:
            for ws in failed:
                closing.append(ws)
                if self.presence.leave(room, self.user_of[ws], ws):
                    leaving.append(self.user_of[ws])
            failed = []
            if leaving:
                user = leaving.pop(0)
                await self.events.emit("chat.left", {"room": room, "user": user})
                failed = await broadcast(self.presence.connections(room),
                                         {"type": "leave", "room": room, "user": user},
                                         timeout=self.timeout)
        for ws in closing:
            try:
                await asyncio.wait_for(ws.close(code=1011), self.timeout)
            except Exception:
                pass

    async def tell(self, room: str, ws: Any, frame: dict[str, Any]) -> None:
        async with self.locks[room]:
            if ws in self.presence.connections(room):
                await self.drop(room, await broadcast([ws], frame, timeout=self.timeout))

    async def on_message(self, msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with self.locks[room]:
            self.seq[room] += 1
            await self.send_room(room, {"type": "message", "room": room, "user": msg["user"],
                                        "text": msg["text"], "seq": self.seq[room]})

    async def refuse(self, ws: WebSocket, what: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": f"invalid or missing {what}"}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def enter(self, room: str, user: str, ws: WebSocket) -> bool:
        async with self.locks[room]:
            first = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if await broadcast([ws], roster, timeout=self.timeout):
                self.presence.leave(room, user, ws)
                return False
            if first:
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def exit(self, room: str, user: str, ws: WebSocket) -> None:
        async with self.locks[room]:
            if self.presence.leave(room, user, ws):
                await self.events.emit("chat.left", {"room": room, "user": user})
                await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            return await self.refuse(ws, "room")
        if not valid_name(user):
            return await self.refuse(ws, "user")
        self.user_of[ws] = user
        try:
            if not await self.enter(room, user, ws):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.tell(room, ws, {"type": "error", "code": "bad_frame",
                                               "message": str(exc)})
                    await self.events.emit("ws.error",
                                           {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.tell(room, ws, {"type": "pong"})
                else:
                    await self.events.emit("room.message",
                                           {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            await self.exit(room, user, ws)
            self.user_of.pop(ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.handle)
    return app
