"""Bug: Presence keeps each room as a list of (user, conn) pairs in join order and builds the roster with itertools.groupby, which only merges adjacent equal keys, so a user whose tabs are not next to each other in that list is listed twice.

Breaks: "`{"type": "roster", "room": R, "users": [sorted unique user names, including yourself]}`" and "the roster lists the user once" ... ann opens a tab, then bob, then ann a second tab: that tab's roster (and Presence.roster) is ["ann", "ann", "bob"] instead of ["ann", "bob"].
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command, or ValueError("<what is wrong>")."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError("unknown or missing type")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> the (user, conn) pairs of its open connections."""

    def __init__(self) -> None:
        self._pairs: dict[str, list[tuple[str, Hashable]]] = {}

    def _present(self, room: str, user: str) -> bool:
        return any(name == user for name, _ in self._pairs.get(room, ()))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        arrived = not self._present(room, user)
        self._pairs.setdefault(room, []).append((user, conn))
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        pairs = self._pairs.get(room)
        if not pairs or (user, conn) not in pairs:
            return False
        pairs.remove((user, conn))
        if not pairs:
            del self._pairs[room]
        return not self._present(room, user)

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        names = (name for name, _ in self._pairs.get(room, ()))
        return sorted(name for name, _tabs in itertools.groupby(names))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [conn for _, conn in self._pairs.get(room, ())]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members that failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> Any:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return conn
        return None

    results = await asyncio.gather(*(one(c) for c in members))
    return [c for c in results if c is not None]


class _Room:
    """One room's state: its seq counter and the lock that orders its frames."""

    def __init__(self) -> None:
        self.seq = 0
        self.lock = asyncio.Lock()


class ChatServer:
    """Everything one app knows: presence, rooms, and which user each connection is."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, _Room] = {}
        self.user_of: dict[Any, str] = {}
        self.closers: set[asyncio.Task[None]] = set()

    def room(self, name: str) -> _Room:
        found = self.rooms.get(name)
        if found is None:
            found = self.rooms[name] = _Room()
        return found

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        await self.app.events.emit(event, payload)

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room's members now; drop whoever failed (lock held)."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        left = []
        for ws in failed:  # forget them all first ...
            user = self.user_of.get(ws)
            if user is not None and self.presence.leave(room, user, ws):
                left.append(user)
            task = asyncio.ensure_future(self.close_1011(ws))
            self.closers.add(task)
            task.add_done_callback(self.closers.discard)
        for user in left:  # ... then announce their leaves
            await self.emit("chat.left", {"room": room, "user": user})
            await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def close_1011(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), self.send_timeout)
        except Exception:
            pass

    async def reply(self, room: str, ws: Any, frame: dict[str, Any]) -> None:
        async with self.room(room).lock:
            failed = await broadcast([ws], frame, timeout=self.send_timeout)
            await self.drop(room, failed)

    async def on_message(self, msg: dict[str, Any]) -> None:
        room = msg["room"]
        state = self.room(room)
        async with state.lock:
            state.seq += 1
            await self.send_room(room, {"type": "message", "room": room, "user": msg["user"],
                                        "text": msg["text"], "seq": state.seq})

    async def enter(self, room: str, user: str, ws: Any) -> bool:
        async with self.room(room).lock:
            self.user_of[ws] = user
            arrived = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if await broadcast([ws], roster, timeout=self.send_timeout):
                self.presence.leave(room, user, ws)
                self.user_of.pop(ws, None)
                return False
            if arrived:
                await self.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def exit(self, room: str, user: str, ws: Any) -> None:
        async with self.room(room).lock:
            self.user_of.pop(ws, None)
            if self.presence.leave(room, user, ws):
                await self.emit("chat.left", {"room": room, "user": user})
                await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for what, value in (("room", room), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_json({"type": "error", "code": "bad_request",
                                        "message": f"missing or invalid {what} name"})
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        if not await self.enter(room, user, ws):
            return
        try:
            while True:
                try:
                    message = await ws.receive()
                except Exception:
                    return
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.reply(room, ws, {"type": "error", "code": "bad_frame",
                                                "message": str(exc)})
                    await self.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.reply(room, ws, {"type": "pong"})
                else:
                    await self.emit("room.message", {"room": room, "user": user,
                                                     "text": command["text"]})
        finally:
            await self.exit(room, user, ws)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.serve)
    return app
