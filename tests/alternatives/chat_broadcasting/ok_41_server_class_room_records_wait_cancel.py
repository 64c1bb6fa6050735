"""Style: a ChatServer class owning Room records (lock, itertools seq counter), a two-index Presence, and a broadcast built on asyncio.wait that cancels what is still pending.

Follows: "`valid_name`: a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (isinstance check, then NAME.fullmatch: no `$`, ASCII classes only); "`parse_frame`: [...] else `ValueError`, and never any other exception" (binary, ValueError or RecursionError from json.loads, non-object, type not a str in {"message", "ping"}, text not a non-empty str of at most 2000 characters; values quoted with a short repr); "`join` is True on 0 -> 1, `leave` True on 1 -> 0 (and harmless twice)" (users per room plus connections per (room, user)); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame" (one task per member, asyncio.wait(timeout), pending ones cancelled and awaited); "Always `await ws.accept()` first [...] close with code 4400"; "The new connection's first frame is the roster" (roster sent under the room's lock, before the join, to the room as it is); "`N` is a per-room counter starting at 1 [...] does not restart when the room empties" (Room records are never deleted); "members dropped by one broadcast leave together: forget every one of them before announcing any of their leaves" (a worklist: forget all, close all with 1011, then announce, and whoever fails an announcement is the next batch); "a normal disconnect [...] is a leave, not an error" (websocket.disconnect ends the loop, WebSocketDisconnect is caught); "a dropped or closed member's later clean-up must not announce the leave twice" (Presence.leave returns False the second time).
"""

from __future__ import annotations

import asyncio
import itertools
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
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _quote(value: Any) -> str:
    try:
        shown = repr(value)
    except Exception:
        return "<unprintable>"
    return shown if len(shown) <= 30 else shown[:27] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if type(data) is not dict:
        raise ValueError("frame must be a JSON object")
    if "type" not in data:
        raise ValueError("frame has no type")
    kind = data["type"]
    if not (isinstance(kind, str) and kind in {"message", "ping"}):
        raise ValueError(f"unknown frame type {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("message has no text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if len(text) == 0:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._users: dict[str, dict[str, None]] = {}  # room -> its users, in arrival order
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.get((room, user))
        if tabs is None:
            self._tabs[(room, user)] = {conn}
            self._users.setdefault(room, {})[user] = None
            return True
        tabs.add(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.get((room, user))
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._tabs[(room, user)]
        users = self._users[room]
        del users[user]
        if not users:
            del self._users[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for user in self._users.get(room, ()) for conn in self._tabs[(room, user)]]


async def _deliver(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(_deliver(conn, text)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    if pending:
        await asyncio.wait(pending)
    return [
        conn
        for conn, task in zip(members, tasks)
        if task in pending or task.cancelled() or task.exception() is not None
    ]


@dataclass(eq=False)
class Session:
    """One open tab: its socket and whose it is (hashed by identity)."""

    ws: WebSocket
    room: str
    user: str

    def send_text(self, text: str) -> Any:
        return self.ws.send_text(text)


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.events.on("room.message", self.relay)

    def room(self, name: str) -> Room:
        found = self.rooms.get(name)
        if found is None:
            found = self.rooms[name] = Room()
        return found

    async def _close(self, session: Session) -> None:
        try:
            await asyncio.wait_for(session.ws.close(1011), self.send_timeout)
        except Exception:
            pass  # already gone, or stalled beyond closing

    async def send(self, room: str, targets: list[Any], frame: dict[str, Any]) -> None:
        """Send, then settle every member the send dropped (the room's lock is held)."""
        batch = await broadcast(targets, frame, timeout=self.send_timeout)
        while batch:
            gone = [s.user for s in batch if self.presence.leave(room, s.user, s)]
            await asyncio.gather(*(self._close(s) for s in batch))
            batch = []
            for user in gone:
                await self.events.emit("chat.left", {"room": room, "user": user})
                batch.extend(await broadcast(
                    self.presence.connections(room),
                    {"type": "leave", "room": room, "user": user},
                    timeout=self.send_timeout,
                ))

    async def relay(self, payload: dict[str, Any]) -> None:
        name = payload["room"]
        room = self.room(name)
        async with room.lock:
            frame = {"type": "message", "room": name, "user": payload["user"],
                     "text": payload["text"], "seq": next(room.seq)}
            await self.send(name, self.presence.connections(name), frame)

    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request", "message": why}))
            await ws.close(BAD_REQUEST_CLOSE)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    async def enter(self, me: Session) -> bool:
        async with self.room(me.room).lock:
            users = sorted({*self.presence.roster(me.room), me.user})
            if await broadcast([me], {"type": "roster", "room": me.room, "users": users},
                               timeout=self.send_timeout):
                await self._close(me)
                return False
            if self.presence.join(me.room, me.user, me):
                await self.events.emit("chat.joined", {"room": me.room, "user": me.user})
                await self.send(me.room, self.presence.connections(me.room),
                                {"type": "join", "room": me.room, "user": me.user})
        return True

    async def exit(self, me: Session) -> None:
        async with self.room(me.room).lock:
            if self.presence.leave(me.room, me.user, me):
                await self.events.emit("chat.left", {"room": me.room, "user": me.user})
                await self.send(me.room, self.presence.connections(me.room),
                                {"type": "leave", "room": me.room, "user": me.user})

    async def reply(self, me: Session, frame: dict[str, Any]) -> None:
        async with self.room(me.room).lock:
            await self.send(me.room, [me], frame)

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not valid_name(room):
            return await self.refuse(ws, "room must be 1-32 characters of [A-Za-z0-9_.-]")
        if not valid_name(user):
            return await self.refuse(ws, "user must be 1-32 characters of [A-Za-z0-9_.-]")
        me = Session(ws, room, user)
        if not await self.enter(me):
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    reason = str(exc)
                    await self.reply(me, {"type": "error", "code": "bad_frame", "message": reason})
                    await self.events.emit("ws.error", {"room": room, "user": user, "error": reason})
                    continue
                if command["type"] == "ping":
                    await self.reply(me, {"type": "pong"})
                else:
                    await self.events.emit(
                        "room.message", {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            await self.exit(me)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.handle)
    return app
