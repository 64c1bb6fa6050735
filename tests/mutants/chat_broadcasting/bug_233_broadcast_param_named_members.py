"""Breaks: "`broadcast(conns, frame, *, timeout)` | serialise once, send to a snapshot of `conns`"
(the stub's signature names the first parameter ``conns``).
Does instead: the first parameter is called ``members`` (the name step 5 used), so the app's
positional call works but a caller naming it, ``broadcast(conns=room, frame=f, timeout=1)``,
gets TypeError ("unexpected keyword argument 'conns'") and nobody receives the frame."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from itertools import chain
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if isinstance(value, bytes | bytearray | memoryview):
        return False  # a str pattern refuses these anyway, but say so plainly
    try:
        return NAME.fullmatch(value) is not None  # type: ignore[arg-type]
    except TypeError:  # None, numbers, lists, dicts...
        return False


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send a JSON text frame")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not a JSON {type(data).__name__}")
    if "type" not in data:
        raise ValueError("the frame has no 'type' field")
    kind = data["type"]
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown frame type {kind!r:.40}: expected 'message' or 'ping'")
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError("a message needs a 'text' that is a string")
    if body == "":
        raise ValueError("a message's 'text' must not be empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"a message's 'text' may be at most {MAX_TEXT} characters")
    return {"type": "message", "text": body}


class Presence:
    """Who is in each room: room -> user -> that user's open connections (a dict used as a set)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        tabs = users.get(user)
        if tabs is None:
            users[user] = {conn: None}
            return True
        tabs[conn] = None
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            return False
        tabs = users.get(user)
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
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        return list(chain.from_iterable(self._rooms.get(room, {}).values()))


async def broadcast(
    members: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``members``; return those whose send failed."""
    members = list(members)
    if not members:
        return []
    text = json.dumps(frame)

    async def deliver(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(deliver(conn)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)  # the cancelled sends have really ended
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


class ChatHub:
    """The state of one app: presence, the user of every socket, a seq and a lock per room."""

    def __init__(self, events: day25.EventBus, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.user_of: dict[Any, str] = {}
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def lock(self, room: str) -> asyncio.Lock:
        if room not in self.locks:
            self.locks[room] = asyncio.Lock()
        return self.locks[room]

    def forget(self, room: str, ws: Any) -> str | None:
        """Take ``ws`` out of the room; its user when that was the user's last tab."""
        user = self.user_of.get(ws)
        if user is not None and self.presence.leave(room, user, ws):
            return user
        return None

    async def send_to_room(self, room: str, frame: dict[str, Any]) -> None:
        async with self.lock(room):
            if frame["type"] == "message":
                self.seq[room] = self.seq.get(room, 0) + 1
                frame = {**frame, "seq": self.seq[room]}
            dead = await broadcast(self.presence.connections(room), frame,
                                   timeout=self.send_timeout)
        if not dead:
            return
        leavers = [u for u in (self.forget(room, ws) for ws in dead) if u is not None]
        for user in leavers:
            await self.announce_leave(room, user)
        await asyncio.gather(*(self.shut(ws) for ws in dead))

    async def announce_leave(self, room: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": room, "user": user})
        await self.send_to_room(room, {"type": "leave", "room": room, "user": user})

    async def shut(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), self.send_timeout)
        except Exception:
            pass  # already gone

    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await ws.send_json({"type": "error", "code": "bad_request", "message": why})
            await ws.close(BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            await self.refuse(ws, "the room must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if not valid_name(user):
            await self.refuse(ws, "?user= must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        self.user_of[ws] = user
        try:
            async with self.lock(room):
                arrived = self.presence.join(room, user, ws)
                roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
                await asyncio.wait_for(ws.send_json(roster), self.send_timeout)
            if arrived:
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.send_to_room(room, {"type": "join", "room": room, "user": user})
            await self.read_loop(ws, room, user)
        except WebSocketDisconnect:
            pass
        except TimeoutError:
            await self.shut(ws)  # never took its roster
        finally:
            gone = self.forget(room, ws)
            if gone is not None:
                await self.announce_leave(room, gone)
            self.user_of.pop(ws, None)

    async def read_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await self.events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                continue
            if command["type"] == "ping":
                await ws.send_json({"type": "pong"})
            else:
                await self.events.emit(
                    "room.message", {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    hub = ChatHub(day25.install(app), send_timeout)

    @hub.events.on("room.message")
    async def relay(payload: dict[str, Any]) -> None:
        await hub.send_to_room(payload["room"], {"type": "message", **payload})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await hub.serve(ws)

    return app
