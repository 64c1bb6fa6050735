"""CORRECT variant: a per-app ``Hub`` object with ``Room`` records, join/leave frames
sent by listeners of ``chat.joined`` / ``chat.left`` (the route only emits), names
checked without a regex, Presence kept as (room, user) -> list of connections, and
``broadcast`` built on ``asyncio.timeout`` + ``asyncio.wait`` instead of ``gather``.

Every stated rule is still kept: roster under the room's lock before any broadcast
reaches the tab, join after the roster, per-room seq that never resets, snapshot
broadcast with a per-send timeout and cancellation, dropped members forgotten
together before any leave is announced and closed with 1011 (bounded), exact
error frames to the sender only, no ws.error for normal disconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import string
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

MAX_TEXT = 2000
NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")  # kept for the stub's shape; names are checked below
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0
_ALLOWED = frozenset(string.ascii_letters + string.digits + "_.-")


def valid_name(value: object) -> bool:
    if not isinstance(value, str):
        return False
    return 1 <= len(value) <= 32 and all(ch in _ALLOWED for ch in value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: only JSON text frames are understood")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        kind = "too deeply nested" if isinstance(exc, RecursionError) else "not JSON"
        raise ValueError(f"frame is {kind}") from None
    if type(data) is not dict:
        raise ValueError(f"frame is a JSON {type(data).__name__}, not an object")
    if "type" not in data:
        raise ValueError("frame has no 'type'")
    kind = data["type"]
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if isinstance(kind, str) and kind == "message":
        if "text" not in data:
            raise ValueError("message frame has no 'text'")
        text = data["text"]
        if not isinstance(text, str):
            raise ValueError(f"'text' is a {type(text).__name__}, not a string")
        if len(text) == 0:
            raise ValueError("'text' is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"'text' has {len(text)} characters, more than {MAX_TEXT}")
        return {"type": "message", "text": text}
    raise ValueError(f"unknown 'type': {repr(kind)[:40]}")


class Presence:
    """(room, user) -> list of that user's connections in that room."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], list[Hashable]] = {}
        self._users: dict[str, list[str]] = {}  # room -> users in join order

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None:
            self._tabs[key] = [conn]
            self._users.setdefault(room, []).append(user)
            return True
        tabs.append(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._tabs[key]
        users = self._users[room]
        users.remove(user)
        if not users:
            del self._users[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, []))

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for user in self._users.get(room, []):
            out.extend(self._tabs[(room, user)])
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    snapshot = list(conns)
    if not snapshot:
        return []
    text = json.dumps(frame)

    async def deliver(conn: Any) -> None:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)

    tasks = [asyncio.create_task(deliver(conn)) for conn in snapshot]
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    return [conn for conn, task in zip(snapshot, tasks)
            if task.cancelled() or task.exception() is not None]


class _Room:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.seq = 0


class _Hub:
    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, _Room] = {}
        self.owner: dict[WebSocket, str] = {}

    def room(self, name: str) -> _Room:
        if name not in self.rooms:
            self.rooms[name] = _Room()
        return self.rooms[name]

    def drop(self, room: str, ws: WebSocket) -> str | None:
        user = self.owner.get(ws)
        if user is not None and self.presence.leave(room, user, ws):
            return user
        return None

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        state = self.room(room)
        async with state.lock:
            if frame.get("type") == "message":
                state.seq += 1
                frame["seq"] = state.seq
            failed = await broadcast(self.presence.connections(room), frame,
                                     timeout=self.send_timeout)
        if not failed:
            return
        leavers = []
        for ws in failed:
            user = self.drop(room, ws)
            if user is not None:
                leavers.append(user)
        for user in leavers:
            await self.events.emit("chat.left", {"room": room, "user": user})
        await asyncio.gather(*(self.shut(ws) for ws in failed))

    async def shut(self, ws: WebSocket) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), self.send_timeout)
        except Exception:
            pass


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    hub = _Hub(events, send_timeout)

    @events.on("chat.joined")
    async def on_joined(payload: dict[str, str]) -> None:
        await hub.send_room(payload["room"], {"type": "join", "room": payload["room"],
                                              "user": payload["user"]})

    @events.on("chat.left")
    async def on_left(payload: dict[str, str]) -> None:
        await hub.send_room(payload["room"], {"type": "leave", "room": payload["room"],
                                              "user": payload["user"]})

    @events.on("room.message")
    async def on_message(payload: dict[str, str]) -> None:
        frame = {"type": "message", "room": payload["room"], "user": payload["user"],
                 "text": payload["text"]}
        await hub.send_room(payload["room"], frame)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "room and user must be 1-32 of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        hub.owner[ws] = user
        try:
            async with hub.room(room).lock:
                first = hub.presence.join(room, user, ws)
                await asyncio.wait_for(
                    ws.send_text(json.dumps({"type": "roster", "room": room,
                                             "users": hub.presence.roster(room)})),
                    send_timeout)
            if first:
                await events.emit("chat.joined", {"room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    reason = str(exc)
                    await events.emit("ws.error", {"room": room, "user": user, "error": reason})
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": reason}))
                    continue
                if command["type"] == "ping":
                    await ws.send_text('{"type": "pong"}')
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            gone = hub.drop(room, ws)
            if gone is not None:
                await events.emit("chat.left", {"room": room, "user": gone})
            hub.owner.pop(ws, None)

    return app
