"""OK (style): a ChatServer class with one Room record (lock, seq) per room, sets of allowed characters, match-based parsing and asyncio.wait.

Follows the text, in particular:
"room and user are 1-32 characters of [A-Za-z0-9_.-]: those 64 ASCII characters and no others."
"N is a per-room counter starting at 1, kept for as long as the server runs: it does not restart when the room empties"
"members dropped by one broadcast leave together: forget every one of them before announcing any of their leaves"
"A normal disconnect (WebSocketDisconnect, or a websocket.disconnect message) is a leave, not an error"
"""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections import defaultdict
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
DROPPED_CLOSE = 1011
NAME_CHARACTERS = frozenset(string.ascii_letters + string.digits + "_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return 1 <= len(value) <= 32 and all(ch in NAME_CHARACTERS for ch in value)


def _quote(value: Any) -> str:
    """A short, always-sendable quotation of a client's value."""
    shown = repr(value)
    if len(shown) > 30:
        shown = shown[:27] + "..."
    return shown


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    match data.get("type", None):
        case "ping":
            return {"type": "ping"}
        case "message":
            pass
        case None if "type" not in data:
            raise ValueError("the frame has no type")
        case other:
            raise ValueError(f"unknown type: {_quote(other)}")
    if "text" not in data:
        raise ValueError("a message frame needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if len(text) == 0:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> that user's open connections.

    Each user's connections are the keys of a dict (an ordered set).
    """

    def __init__(self) -> None:
        self._rooms: defaultdict[str, dict[str, dict[Hashable, None]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room].setdefault(user, {})
        arrived = len(tabs) == 0
        tabs[conn] = None
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        tabs = users.get(user) if users else None
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        users = self._rooms.get(room)
        return sorted(users) if users else []

    def connections(self, room: str) -> list[Hashable]:
        users = self._rooms.get(room)
        if not users:
            return []
        found: list[Hashable] = []
        for tabs in users.values():
            found.extend(tabs)
        return found


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return those whose send failed."""
    snapshot = tuple(conns)
    if not snapshot:
        return []
    payload = json.dumps(frame)
    sends = [
        (conn, asyncio.ensure_future(asyncio.wait_for(conn.send_text(payload), timeout)))
        for conn in snapshot
    ]
    await asyncio.wait([task for _, task in sends])
    return [conn for conn, task in sends if task.cancelled() or task.exception() is not None]


@dataclass
class Room:
    """What a room keeps for as long as the server runs."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_seq: int = 0


class ChatServer:
    """The state of one app: presence, rooms, and who each connection is."""

    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: defaultdict[str, Room] = defaultdict(Room)
        self.members: dict[Any, tuple[str, str]] = {}
        self._closing: set[asyncio.Future[Any]] = set()

    # -- sending ---------------------------------------------------------------
    async def send_to(self, ws: Any, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)

    async def to_room(self, room: str, frame: dict[str, Any]) -> None:
        async with self.rooms[room].lock:
            failed = await broadcast(self.presence.connections(room), frame,
                                     timeout=self.send_timeout)
        await self.drop(failed)

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        record = self.rooms[room]
        async with record.lock:
            record.last_seq += 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": record.last_seq}
            failed = await broadcast(self.presence.connections(room), frame,
                                     timeout=self.send_timeout)
        await self.drop(failed)

    # -- leaving ---------------------------------------------------------------
    async def _close(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(DROPPED_CLOSE), self.send_timeout)
        except Exception:
            pass  # its send raised: already gone

    async def drop(self, failed: list[Any]) -> None:
        if not failed:
            return
        left: list[tuple[str, str]] = []
        for ws in failed:  # forget them all first...
            where = self.members.pop(ws, None)
            if where is not None and self.presence.leave(where[0], where[1], ws):
                left.append(where)
        for ws in failed:
            closing = asyncio.ensure_future(self._close(ws))
            self._closing.add(closing)
            closing.add_done_callback(self._closing.discard)
        for room, user in left:  # ...then announce
            await self.announce_leave(room, user)

    async def announce_leave(self, room: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": room, "user": user})
        await self.to_room(room, {"type": "leave", "room": room, "user": user})

    # -- one connection ----------------------------------------------------------
    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await self.send_to(ws, {"type": "error", "code": "bad_request", "message": why})
            await ws.close(BAD_REQUEST_CLOSE)
        except Exception:
            pass  # the client left already

    async def enter(self, ws: WebSocket, room: str, user: str) -> bool:
        """Roster first, then the join to everyone; False if the tab is already gone."""
        failed: list[Any] = []
        async with self.rooms[room].lock:
            arrived = self.presence.join(room, user, ws)
            self.members[ws] = (room, user)
            try:
                await self.send_to(ws, {"type": "roster", "room": room,
                                        "users": self.presence.roster(room)})
            except Exception:
                self.members.pop(ws, None)
                self.presence.leave(room, user, ws)
                entered = False
            else:
                entered = True
                if arrived:
                    failed = await broadcast(self.presence.connections(room),
                                             {"type": "join", "room": room, "user": user},
                                             timeout=self.send_timeout)
        if not entered:
            await self._close(ws)
            return False
        if arrived:
            await self.events.emit("chat.joined", {"room": room, "user": user})
        await self.drop(failed)
        return True

    async def serve(self, ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            await self.refuse(ws, "room must be 1-32 characters of [A-Za-z0-9_.-]")
            return
        if user is None:
            await self.refuse(ws, "missing ?user=NAME")
            return
        if not valid_name(user):
            await self.refuse(ws, "user must be 1-32 characters of [A-Za-z0-9_.-]")
            return
        if not await self.enter(ws, room, user):
            return
        try:
            await self.receive_loop(ws, room, user)
        except (WebSocketDisconnect, OSError, RuntimeError, asyncio.TimeoutError):
            pass  # the connection is gone: that is a leave
        finally:
            self.members.pop(ws, None)
            if self.presence.leave(room, user, ws):
                await self.announce_leave(room, user)

    async def receive_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                reason = str(exc)
                await self.send_to(ws, {"type": "error", "code": "bad_frame", "message": reason})
                await self.events.emit("ws.error", {"room": room, "user": user, "error": reason})
                continue
            if command["type"] == "ping":
                await self.send_to(ws, {"type": "pong"})
            else:
                await self.events.emit("room.message",
                                       {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    server = ChatServer(events, send_timeout)
    events.on("room.message", server.on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await server.serve(ws)

    return app
