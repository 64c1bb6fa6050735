"""Bug: every new connection is sent its roster and then its own join directly, and only the rest of the room gets the join broadcast when the user arrived, so a user's second tab still receives a join frame for its own user.

Breaks: "A second tab of the same user is **not** a second user: no join when it opens" (and "When a **user** goes from 0 to 1 connections in the room, every connection in the room (the joiner's too, after its roster) receives" the join) ... ann is in the lobby and opens a second tab: the other members correctly hear nothing, but the new tab gets {"type": "join", "room": "lobby", "user": "ann"} right after its roster.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
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
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame")
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("invalid JSON") from None
    if not isinstance(obj, dict):
        raise ValueError("the frame must be a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise ValueError(f"missing or non-string type: {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown type {kind[:40]!r}")
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError("text must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is over {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        arrived = user not in users
        users.setdefault(user, set()).add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.get(room, {}).get(user)
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._rooms[room][user]
        if not self._rooms[room]:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
            return True
        except Exception:
            return False

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(send(c)) for c in members]
    return [c for c, t in zip(members, tasks) if not t.result()]


class ChatApp:
    def __init__(self, send_timeout: float) -> None:
        self.app = NexiosApp()
        day25.install(self.app)
        self.timeout = send_timeout
        self.presence = Presence()
        self.seqs: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.names: dict[Any, str] = {}
        self.app.events.on("room.message", self.relay)
        self.app.ws_route("/chat/{room}")(self.connection)

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        await self.app.events.emit(event, payload)

    async def to_room(self, room: str, frame: dict[str, Any], skip: Any = None) -> None:
        targets = [c for c in self.presence.connections(room) if c is not skip]
        failed = await broadcast(targets, frame, timeout=self.timeout)
        if failed:
            await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        gone = []
        for conn in failed:
            if self.presence.leave(room, self.names[conn], conn):
                gone.append(self.names[conn])
        await asyncio.gather(*(self.close_1011(c) for c in failed))
        for user in gone:
            await self.emit("chat.left", {"room": room, "user": user})
            await self.to_room(room, {"type": "leave", "room": room, "user": user})

    async def close_1011(self, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), self.timeout)
        except Exception:
            pass

    async def relay(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            self.seqs[room] = self.seqs.get(room, 0) + 1
            await self.to_room(room, {"type": "message", "room": room, "user": payload["user"],
                                      "text": payload["text"], "seq": self.seqs[room]})

    async def connection(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": "room and user must each be 1-32 characters of A-Za-z0-9_.-"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        self.names[ws] = user
        join = {"type": "join", "room": room, "user": user}
        async with self.lock(room):
            arrived = self.presence.join(room, user, ws)
            try:
                async with asyncio.timeout(self.timeout):
                    await ws.send_text(json.dumps({"type": "roster", "room": room,
                                                   "users": self.presence.roster(room)}))
                    await ws.send_text(json.dumps(join))  # the joiner hears its join after the roster
            except Exception:
                self.presence.leave(room, user, ws)
                self.names.pop(ws, None)
                return
            if arrived:
                await self.emit("chat.joined", {"room": room, "user": user})
                await self.to_room(room, join, skip=ws)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await self.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await self.emit("room.message", {"room": room, "user": user,
                                                     "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with self.lock(room):
                if self.presence.leave(room, user, ws):
                    await self.emit("chat.left", {"room": room, "user": user})
                    await self.to_room(room, {"type": "leave", "room": room, "user": user})
            self.names.pop(ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    return ChatApp(send_timeout).app
