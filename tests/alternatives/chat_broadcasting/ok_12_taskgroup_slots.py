"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): chat_broadcasting with ``__slots__`` classes, ``asyncio.TaskGroup`` + ``asyncio.timeout``
for the broadcast, and a small ``ChatServer`` object holding the app's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

log = logging.getLogger(__name__)

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = frozenset({"message", "ping"})


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` / ``{"type": "message", ...}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown frame type {kind!r:.40}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"'text' must be a string of 1-{MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    __slots__ = ("_rooms",)

    def __init__(self) -> None:
        self._rooms: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        first = not tabs
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None or conn not in users.get(user, ()):
            return False
        tabs = users[user]
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]

    def __contains__(self, room: object) -> bool:
        return room in self._rooms

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._rooms))

    def __len__(self) -> int:
        return len(self._rooms)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    failed: list[Any] = []

    async def send(conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:  # raised or timed out: this member only
            failed.append(conn)

    async with asyncio.TaskGroup() as group:
        for conn in members:
            group.create_task(send(conn))
    return [c for c in members if c in failed]


class ChatServer:
    __slots__ = ("events", "presence", "send_timeout", "user_of", "seqs", "locks")

    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.user_of: dict[WebSocket, str] = {}
        self.seqs: defaultdict[str, int] = defaultdict(int)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def forget(self, room: str, ws: WebSocket) -> str | None:
        user = self.user_of.get(ws)
        if user is not None and self.presence.leave(room, user, ws):
            return user
        return None

    async def publish(self, room: str, frame: dict[str, Any]) -> None:
        async with self.locks[room]:
            if frame["type"] == "message":
                self.seqs[room] += 1
                frame["seq"] = self.seqs[room]
            dead = await broadcast(self.presence.connections(room), frame,
                                   timeout=self.send_timeout)
        gone = [u for ws in dead if (u := self.forget(room, ws)) is not None]
        for user in gone:
            await self.announce_leave(room, user)
        await asyncio.gather(*(self.close(ws, 1011) for ws in dead))

    async def announce_leave(self, room: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": room, "user": user})
        await self.publish(room, {"type": "leave", "room": room, "user": user})

    async def close(self, ws: WebSocket, code: int) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self.send_timeout):
                await ws.close(code)

    async def on_message(self, payload: dict[str, str]) -> None:
        await self.publish(payload["room"], {"type": "message", **payload})

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "room and user must be 1-32 of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        self.user_of[ws] = user
        try:
            async with self.locks[room]:
                arrived = self.presence.join(room, user, ws)
                async with asyncio.timeout(self.send_timeout):
                    await ws.send_json({"type": "roster", "room": room,
                                        "users": self.presence.roster(room)})
            if arrived:
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.publish(room, {"type": "join", "room": room, "user": user})
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.events.emit("ws.error", {"room": room, "user": user,
                                                        "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await self.events.emit("room.message", {"room": room, "user": user,
                                                            "text": command["text"]})
        except WebSocketDisconnect:
            log.debug("%s left %s", user, room)
        finally:
            if (left := self.forget(room, ws)) is not None:
                await self.announce_leave(room, left)
            self.user_of.pop(ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(day25.install(app), send_timeout)
    server.events.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.serve)
    return app
