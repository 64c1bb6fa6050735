"""Bug: broadcast counts a send as failed only when it times out or raises WebSocketDisconnect, so any other exception from send_text (ConnectionResetError, RuntimeError...) escapes broadcast instead of that member being returned.

Breaks: "A member whose send raises, or does not finish within ``timeout`` seconds, is returned; every other member still gets the frame" ... broadcast([ok, dead], frame, timeout=1) where dead.send_text raises ConnectionResetError (the lesson's DeadSocket) raises ConnectionResetError out of broadcast instead of returning [dead]; inside the app nexios turns a broken socket into WebSocketDisconnect, so the app itself looks fine.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict
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
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted, send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {repr(kind)[:50]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if len(text) == 0:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room].setdefault(user, set())
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room, {})
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del users[user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def _deliver(conn: Any, text: str, timeout: float) -> bool:
    """True if ``conn`` took ``text`` within ``timeout`` seconds."""
    try:
        await asyncio.wait_for(conn.send_text(text), timeout)
    except (asyncio.TimeoutError, WebSocketDisconnect):
        return False
    return True


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    delivered = await asyncio.gather(*(_deliver(c, text, timeout) for c in members))
    return [c for c, ok in zip(members, delivered) if not ok]


class ChatServer:
    """The state of one app: presence, a seq and a lock per room, who owns each socket."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: Counter[str] = Counter()
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.owner: dict[Any, str] = {}

    async def announce(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room; members it loses are dropped together (lock held)."""
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.send_timeout)
        if failed:
            await self.drop(room, failed)

    async def drop(self, room: str, conns: list[Any]) -> None:
        gone = [self.owner[c] for c in conns if self.presence.leave(room, self.owner[c], c)]
        for conn in conns:
            try:
                await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
            except Exception:
                pass  # already gone
        for user in gone:
            await self.app.events.emit("chat.left", {"room": room, "user": user})
            await self.announce(room, {"type": "leave", "room": room, "user": user})

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.locks[room]:
            self.seq[room] += 1
            await self.announce(room, {"type": "message", "room": room, "user": payload["user"],
                                       "text": payload["text"], "seq": self.seq[room]})

    async def send_own(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of A-Z a-z 0-9 _ . -"
        elif not valid_name(user):
            problem = "user must be 1-32 characters of A-Z a-z 0-9 _ . -"
        if problem:
            try:
                await self.send_own(ws, {"type": "error", "code": "bad_request", "message": problem})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        self.owner[ws] = user
        async with self.locks[room]:
            first = self.presence.join(room, user, ws)
            try:
                await asyncio.wait_for(
                    self.send_own(ws, {"type": "roster", "room": room,
                                       "users": self.presence.roster(room)}),
                    self.send_timeout)
            except Exception:
                self.presence.leave(room, user, ws)
                self.owner.pop(ws, None)
                return
            if first:
                await self.app.events.emit("chat.joined", {"room": room, "user": user})
                await self.announce(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.send_own(ws, {"type": "error", "code": "bad_frame",
                                             "message": str(exc)})
                    await self.app.events.emit("ws.error", {"room": room, "user": user,
                                                            "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.send_own(ws, {"type": "pong"})
                else:
                    await self.app.events.emit("room.message", {"room": room, "user": user,
                                                                "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with self.locks[room]:
                if self.presence.leave(room, user, ws):
                    await self.app.events.emit("chat.left", {"room": room, "user": user})
                    await self.announce(room, {"type": "leave", "room": room, "user": user})
            self.owner.pop(ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.handle)
    return app
