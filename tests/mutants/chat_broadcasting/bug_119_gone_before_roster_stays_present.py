"""Bug: when the roster cannot be sent (the tab is already gone), the route returns before its try/finally, so the connection it just added to presence is never removed.

Breaks: "A tab can be gone before its roster is sent: that send then raises `WebSocketDisconnect` too." and "A connection that dies (no closing handshake, or a send to it fails) leaves like one that closed." ... if ann's only tab dies before its roster goes out, ann stays in presence: bob, connecting next, gets {"type": "roster", "users": ["ann", "bob"]}, and ann is only dropped (with a leave nobody saw a join for) when some later broadcast happens to fail on her dead socket.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frames are refused: send JSON text")
    try:
        value = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError("the frame is not a JSON object")
    kind = value.get("type")
    if not isinstance(kind, str):
        raise ValueError('"type" is missing or not a string')
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError('"type" must be "message" or "ping"')
    text = value.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" is missing or not a string')
    if len(text) == 0:
        raise ValueError('"text" is empty')
    if len(text) > MAX_TEXT:
        raise ValueError(f'"text" is over {MAX_TEXT} characters')
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        tabs = users.get(user)
        if tabs is None:
            users[user] = {conn}
            return True
        tabs.add(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        tabs = users.get(user) if users else None
        if not tabs or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
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
    failed: set[int] = set()

    async def push(index: int, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            failed.add(index)

    async with asyncio.TaskGroup() as group:
        for index, conn in enumerate(members):
            group.create_task(push(index, conn))
    return [conn for index, conn in enumerate(members) if index in failed]


class Hub:
    def __init__(self, bus: Any, send_timeout: float) -> None:
        self.bus = bus
        self.timeout = send_timeout
        self.presence = Presence()
        self.user_of: dict[Any, str] = {}
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.closing: set[asyncio.Task[None]] = set()

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    def close_later(self, ws: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(ws.close(code=1011), self.timeout)
            except Exception:
                pass
        task = asyncio.ensure_future(close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        frames = [frame]
        while frames:
            failed = await broadcast(self.presence.connections(room), frames.pop(0),
                                     timeout=self.timeout)
            left = []
            for ws in failed:
                user = self.user_of.pop(ws, None)
                if user is not None and self.presence.leave(room, user, ws):
                    left.append(user)
                self.close_later(ws)
            for user in left:
                await self.bus.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    async def on_message(self, event: dict[str, Any]) -> None:
        room = event["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            await self.send_room(room, {"type": "message", "room": room, "user": event["user"],
                                        "text": event["text"], "seq": self.seq[room]})

    async def reply(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.timeout)
        except Exception:
            pass

    async def connection(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            field = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"{field} must be 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with self.lock(room):
            first = self.presence.join(room, user, ws)
            self.user_of[ws] = user
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            try:
                await asyncio.wait_for(ws.send_text(json.dumps(roster)), self.timeout)
            except WebSocketDisconnect:
                return  # the tab closed before its roster: it never took part
            except TimeoutError:
                self.close_later(ws)
                return
            if first:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.reply(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.reply(ws, {"type": "pong"})
                else:
                    await self.bus.emit("room.message",
                                        {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with self.lock(room):
                self.user_of.pop(ws, None)
                if self.presence.leave(room, user, ws):
                    await self.bus.emit("chat.left", {"room": room, "user": user})
                    await self.send_room(room, {"type": "leave", "room": room, "user": user})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    hub = Hub(day25.install(app), send_timeout)
    hub.bus.on("room.message", hub.on_message)
    app.ws_route("/chat/{room}")(hub.connection)
    return app
