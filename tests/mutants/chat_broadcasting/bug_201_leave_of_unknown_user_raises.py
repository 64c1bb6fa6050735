"""Bug: Presence.leave keeps a user's emptied set so that a second leave returns False, but indexes room and user directly and raises KeyError for a room or user that never joined.

Breaks: "Leaving with a connection that is not (or no longer) there returns False and changes
nothing, so a clean close after a failed send never announces a leave twice." ... On a
fresh Presence, leave("lobby", "ann", "c1") raises KeyError instead of returning False,
and so does leave("lobby", "bob", "c1") in a room where only ann joined. The table's
"`leave(room, user, conn)` True on 1 -> 0 (and harmless twice)" was read as the only
case leave must survive, though "not (or no longer) there" also covers a connection that
was never there.
"""

from __future__ import annotations

import asyncio
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
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if kind != "message" or not isinstance(kind, str):
        shown = repr(kind) if isinstance(kind, str) else type(kind).__name__
        raise ValueError(f"unknown type: {shown[:40]}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    A user keeps their (possibly empty) set once they have joined, so that leaving
    twice with the same connection is harmless: the second time it is simply not in
    the set any more.
    """

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not tabs
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        if conn not in tabs:
            return False  # left already: harmless twice
        tabs.remove(conn)
        return not tabs

    def roster(self, room: str) -> list[str]:
        return sorted(user for user, tabs in self._rooms.get(room, {}).items() if tabs)

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = list(conns)
    if not snapshot:
        return []
    text = json.dumps(frame)

    async def push(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(push(conn)) for conn in snapshot]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    failed = []
    for conn, task in zip(snapshot, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


class ChatServer:
    """The state of one app: presence, a lock and a seq counter per room."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.bus = day25.install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.locks: dict[str, asyncio.Lock] = {}
        self.seq: dict[str, int] = {}
        self.user_of: dict[Any, str] = {}
        self.gone: set[Any] = set()
        self.closers: set[asyncio.Task[None]] = set()
        self.bus.on("room.message", self.on_message)

    def lock(self, room: str) -> asyncio.Lock:
        if room not in self.locks:
            self.locks[room] = asyncio.Lock()
        return self.locks[room]

    async def _close(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), self.send_timeout)
        except Exception:
            pass

    async def announce(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast with the room's lock held; members it drops leave together."""
        queue = [frame]
        while queue:
            failed = await broadcast(self.presence.connections(room), queue.pop(0),
                                     timeout=self.send_timeout)
            left = []
            for ws in failed:
                self.gone.add(ws)
                if self.presence.leave(room, self.user_of.get(ws, ""), ws):
                    left.append(self.user_of[ws])
            for ws in failed:
                task = asyncio.ensure_future(self._close(ws))
                self.closers.add(task)
                task.add_done_callback(self.closers.discard)
            for user in left:
                await self.bus.emit("chat.left", {"room": room, "user": user})
                queue.append({"type": "leave", "room": room, "user": user})

    async def reply(self, room: str, ws: Any, frame: dict[str, Any]) -> bool:
        """One frame to one tab (pong, error), in the room's order; False if it is gone."""
        async with self.lock(room):
            if ws in self.gone:
                return False
            if not await broadcast([ws], frame, timeout=self.send_timeout):
                return True
            self.gone.add(ws)
            asyncio.ensure_future(self._close(ws))
            user = self.user_of.get(ws, "")
            if self.presence.leave(room, user, ws):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                await self.announce(room, {"type": "leave", "room": room, "user": user})
            return False

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            await self.announce(room, {"type": "message", "room": room, "user": payload["user"],
                                       "text": payload["text"], "seq": self.seq[room]})

    async def enter(self, room: str, user: str, ws: WebSocket) -> bool:
        async with self.lock(room):
            first = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            try:
                await ws.send_text(json.dumps(roster))
            except Exception:
                self.presence.leave(room, user, ws)  # gone before its roster: nobody heard of it
                return False
            if first:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.announce(room, {"type": "join", "room": room, "user": user})
            return True

    async def exit(self, room: str, user: str, ws: Any) -> None:
        async with self.lock(room):
            if self.presence.leave(room, user, ws):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                await self.announce(room, {"type": "leave", "room": room, "user": user})

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"invalid or missing {what} name"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        self.user_of[ws] = user
        try:
            if await self.enter(room, user, ws):
                await self.serve(room, user, ws)
        except Exception:
            pass  # the socket died: it leaves like one that closed
        finally:
            await self.exit(room, user, ws)
            self.user_of.pop(ws, None)
            self.gone.discard(ws)

    async def serve(self, room: str, user: str, ws: WebSocket) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect" or ws in self.gone:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                if not await self.reply(room, ws, {"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}):
                    return
                await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                if not await self.reply(room, ws, {"type": "pong"}):
                    return
            else:
                await self.bus.emit("room.message",
                                    {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.handle)
    return app
