"""Bug: valid_name spells the digits as `\\d`, which in a str pattern matches every Unicode decimal digit, so names such as "ann٣" or "１２３" are accepted.

Breaks: "`room` and `user` are 1-32 characters of `[A-Za-z0-9_.-]`: those 64 ASCII characters and no others" ... valid_name("ann\\u0663") (Arabic-Indic three) and valid_name("\\uff11\\uff12") (fullwidth digits) return True, and connecting to /chat/lobby?user=ann%D9%A3 gets a roster and a join instead of a bad_request error and close code 4400.
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

NAME = re.compile(r"[A-Za-z\d_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: letters, digits, ``_``, ``.`` and ``-``, 1 to 32 of them."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame is not a JSON object")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError('unknown or missing "type" (expected "message" or "ping")')
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    if len(text) == 0 or len(text) > MAX_TEXT:
        raise ValueError(f'"text" must have 1 to {MAX_TEXT} characters')
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.setdefault(room, {})
        arrived = user not in users
        users.setdefault(user, set()).add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.get(room, {}).get(user)
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self.rooms[room][user]
        if not self.rooms[room]:
            del self.rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self.rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = list(conns)
    payload = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(conn.send_text(payload), timeout) for conn in snapshot),
        return_exceptions=True,
    )
    return [conn for conn, outcome in zip(snapshot, outcomes) if isinstance(outcome, BaseException)]


class ChatServer:
    """The state of one app: presence, seq counters, one lock per room."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.bus = day25.install(app)
        self.timeout = send_timeout
        self.presence = Presence()
        self.owner: dict[Any, str] = {}
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.closing: set[asyncio.Task[None]] = set()
        self.bus.on("room.message", self.on_message)

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def _close(self, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), self.timeout)
        except Exception:
            pass

    def drop(self, room: str, failed: list[Any]) -> list[str]:
        """Forget every failed member at once; the users who left with them."""
        left = []
        for conn in failed:
            user = self.owner.pop(conn, None)
            if user is not None and self.presence.leave(room, user, conn):
                left.append(user)
            task = asyncio.ensure_future(self._close(conn))
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)
        return left

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        pending = [frame]
        while pending:
            failed = await broadcast(self.presence.connections(room), pending.pop(0),
                                     timeout=self.timeout)
            for user in self.drop(room, failed):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                pending.append({"type": "leave", "room": room, "user": user})

    async def on_message(self, event: dict[str, Any]) -> None:
        room = event["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            await self.send_room(room, {"type": "message", "room": room, "user": event["user"],
                                        "text": event["text"], "seq": self.seq[room]})

    async def say(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.timeout)
        except Exception:
            pass

    async def arrive(self, ws: WebSocket, room: str, user: str) -> bool:
        async with self.lock(room):
            first = self.presence.join(room, user, ws)
            self.owner[ws] = user
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if await broadcast([ws], roster, timeout=self.timeout):
                self.drop(room, [ws])
                return False
            if first:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def depart(self, ws: WebSocket, room: str, user: str) -> None:
        async with self.lock(room):
            self.owner.pop(ws, None)
            if self.presence.leave(room, user, ws):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for label, value in (("room", room), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_text(json.dumps({
                        "type": "error", "code": "bad_request",
                        "message": f"missing or invalid {label}: 1-32 of [A-Za-z0-9_.-]"}))
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        try:
            if not await self.arrive(ws, room, user):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.say(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.say(ws, {"type": "pong"})
                else:
                    await self.bus.emit("room.message",
                                        {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            await self.depart(ws, room, user)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.handle)
    return app
