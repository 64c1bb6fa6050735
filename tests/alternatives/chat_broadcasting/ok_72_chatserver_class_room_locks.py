"""Exercise 3: chat_broadcasting.

A ChatServer object per app holds presence, the seq counters and one asyncio.Lock
per room; every frame a room sends (roster, join, message, leave) goes out under that
room's lock, and members a broadcast drops are forgotten together before their
leaves are announced.
"""

from __future__ import annotations

import asyncio
import json
import re
import reprlib
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlevel = 3


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _quote(value: object) -> str:
    try:
        return _short.repr(value)
    except Exception:  # a repr that fails: say what it is, not what it holds
        return f"a {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message command."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    if not isinstance(text, str):
        raise ValueError("the frame holds no text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame is JSON but not an object ({type(data).__name__})")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        if "type" not in data:
            raise ValueError("the frame has no 'type'")
        raise ValueError(f"unknown type {_quote(kind)}: expected 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError(f"'text' must be a string, not {type(body).__name__}")
    if not body:
        raise ValueError("'text' is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"'text' is {len(body)} characters long, more than {MAX_TEXT}")
    return {"type": "message", "text": body}


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
        if users is None:
            return False
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
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


async def _send_one(conn: Any, text: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return those that failed."""
    members = list(conns)
    text = json.dumps(frame)
    results = await asyncio.gather(
        *(_send_one(conn, text, timeout) for conn in members), return_exceptions=True
    )
    return [conn for conn, result in zip(members, results) if isinstance(result, BaseException)]


class ChatServer:
    """The state of one app: presence, seq per room, a lock per room."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.users: dict[Any, str] = {}  # connection -> user

    def lock(self, room: str) -> asyncio.Lock:
        lock = self.locks.get(room)
        if lock is None:
            lock = self.locks[room] = asyncio.Lock()
        return lock

    async def close(self, conns: list[Any]) -> None:
        async def one(ws: Any) -> None:
            try:
                async with asyncio.timeout(self.send_timeout):
                    await ws.close(code=1011)
            except Exception:
                pass  # already gone

        await asyncio.gather(*(one(ws) for ws in conns))

    async def send_room(self, room: str, frame: dict[str, Any]) -> list[str]:
        """Under the room's lock: send, drop the failed, announce their leaves.

        Returns the users who left (for chat.left, emitted outside the lock)."""
        left: list[str] = []
        while True:
            failed = await broadcast(
                self.presence.connections(room), frame, timeout=self.send_timeout)
            if not failed:
                return left
            gone = []
            for ws in failed:  # forget them all first
                user = self.users.pop(ws, None)
                if user is not None and self.presence.leave(room, user, ws):
                    gone.append(user)
            await self.close(failed)
            left.extend(gone)
            if not gone:
                return left
            # announce each leave; members failing these are dropped the same way
            for user in gone[:-1]:
                left.extend(await self.send_room(room, {"type": "leave", "room": room,
                                                        "user": user}))
            frame = {"type": "leave", "room": room, "user": gone[-1]}

    async def announce_left(self, room: str, users: list[str]) -> None:
        for user in users:
            await self.app.events.emit("chat.left", {"room": room, "user": user})

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            seq = self.seq[room] = self.seq.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seq}
            left = await self.send_room(room, frame)
        await self.announce_left(room, left)

    async def reply(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            async with asyncio.timeout(self.send_timeout):
                await ws.send_text(json.dumps(frame))
        except Exception:
            pass  # the receive loop or the next broadcast notices a dead tab

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"the {what} name must be 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            joined_left: list[str] = []
            async with self.lock(room):
                first = self.presence.join(room, user, ws)
                self.users[ws] = user
                async with asyncio.timeout(self.send_timeout):  # a tab that never reads
                    await ws.send_text(json.dumps(                # must not hold up the room
                        {"type": "roster", "room": room, "users": self.presence.roster(room)}))
                if first:
                    joined_left = await self.send_room(
                        room, {"type": "join", "room": room, "user": user})
            if first:
                await self.app.events.emit("chat.joined", {"room": room, "user": user})
            await self.announce_left(room, joined_left)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.reply(ws, {"type": "error", "code": "bad_frame",
                                          "message": str(exc)})
                    await self.app.events.emit(
                        "ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.reply(ws, {"type": "pong"})
                else:
                    await self.app.events.emit(
                        "room.message", {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, OSError):  # OSError includes TimeoutError
            pass
        finally:
            await self.depart(room, user, ws)

    async def depart(self, room: str, user: str, ws: WebSocket) -> None:
        async with self.lock(room):
            self.users.pop(ws, None)
            if not self.presence.leave(room, user, ws):
                return
            left = [user, *await self.send_room(room, {"type": "leave", "room": room,
                                                       "user": user})]
        await self.announce_left(room, left)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.serve)
    return app
