"""Bug: parse_frame refuses any raw frame longer than MAX_TEXT plus some room for the JSON around it.

Breaks: "Characters as len(T) counts them, not UTF-8 bytes: 2000 é (4000 bytes) or
2000 emoji are allowed." A client that escapes non-ASCII text (json.dumps does by
default, six characters per é, twelve per emoji) sends a valid 2000-character text
in a frame of 12000 or more characters, which this guard refuses as bad_frame.
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
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ping or message command, else ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed")
    if len(raw) > MAX_TEXT + 100:  # cheap guard: no need to parse a frame this long
        raise ValueError(f"frame is longer than {MAX_TEXT} characters")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("message has no text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users:
            return False
        conns = users.get(user)
        if not conns or conn not in conns:
            return False
        conns.discard(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def _send_one(conn: Any, text: str, timeout: float) -> None:
    await asyncio.wait_for(conn.send_text(text), timeout)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send frame to a snapshot of conns side by side; return the members that failed."""
    members = list(conns)
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(_send_one(m, text, timeout) for m in members), return_exceptions=True
    )
    return [m for m, out in zip(members, outcomes) if isinstance(out, BaseException)]


class ChatServer:
    """Presence, per-room locks and seq counters of one app."""

    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.users: dict[Any, str] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.seqs: dict[str, int] = {}

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def deliver(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (lock held) and drop whoever failed, together."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        if not failed:
            return
        gone = []
        for conn in failed:
            user = self.users.get(conn)
            if user is not None and self.presence.leave(room, user, conn):
                gone.append(user)
        for conn in failed:
            try:
                await conn.close(1011)
            except Exception:
                pass
        for user in gone:
            await self.events.emit("chat.left", {"room": room, "user": user})
            await self.deliver(room, {"type": "leave", "room": room, "user": user})

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            seq = self.seqs.get(room, 0) + 1
            self.seqs[room] = seq
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seq}
            await self.deliver(room, frame)

    async def enter(self, ws: Any, room: str, user: str) -> bool:
        async with self.lock(room):
            self.users[ws] = user
            arrived = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            try:
                await ws.send_text(json.dumps(roster))
            except Exception:
                self.presence.leave(room, user, ws)
                return False
            if arrived:
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.deliver(room, {"type": "join", "room": room, "user": user})
            return True

    async def depart(self, ws: Any, room: str, user: str) -> None:
        async with self.lock(room):
            if self.presence.leave(room, user, ws):
                await self.events.emit("chat.left", {"room": room, "user": user})
                await self.deliver(room, {"type": "leave", "room": room, "user": user})

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            reply = {"type": "error", "code": "bad_request",
                     "message": f"{what} must be 1-32 characters of A-Z, a-z, 0-9, _ . -"}
            try:
                await ws.send_text(json.dumps(reply))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        if not await self.enter(ws, room, user):
            self.users.pop(ws, None)
            return
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": error}))
                    await self.events.emit("ws.error",
                                           {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await self.events.emit("room.message",
                                           {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            await self.depart(ws, room, user)
            self.users.pop(ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with app.events and the /chat/{room} route."""
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app.events, send_timeout)
    app.events.on("room.message", server.on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await server.serve(ws)

    return app
