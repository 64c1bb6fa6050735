"""Exercise 3: chat_broadcasting.

Class-based: create_app() makes one ChatServer that owns all of the app's state
(presence, one _Room per room with its lock and seq counter, and which user each
open socket is). Every room frame (roster, join, leave, message) is sent while
holding that room's lock, so every member sees one order, a roster is the room
as it is when it is sent, and a broadcast's snapshot is taken when it starts.
broadcast() runs one asyncio.wait_for per member side by side (gather with
return_exceptions), so each send has its own timeout and a timed-out send is
cancelled before broadcast returns; members a broadcast dropped are all
forgotten, then closed with 1011 concurrently, then their leaves announced.
"""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")
_KINDS = ("message", "ping")


def _describe(value: object) -> str:
    """What the client sent, quoted with repr and kept short."""
    if isinstance(value, (list, dict)):
        return f"a JSON {'array' if isinstance(value, list) else 'object'}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str) or not 1 <= len(value) <= 32:
        return False
    return all(ch in _NAME_CHARS for ch in value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None or not isinstance(raw, str):
        raise ValueError("binary frame: frames must be JSON text")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("not JSON (nested too deeply)") from None
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("type", None)
    if "type" not in data:
        raise ValueError("missing 'type'")
    if type(kind) is not str or kind not in _KINDS:
        raise ValueError(f"unknown type {_describe(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("message without 'text'")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"'text' is not a string ({_describe(text)})")
    if text == "":
        raise ValueError("'text' is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is too long ({len(text)} > {MAX_TEXT} characters)")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> that user's open connections (dict keys)."""

    def __init__(self) -> None:
        self._where: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._where.setdefault(room, {})
        arrived = user not in users
        users.setdefault(user, {})[conn] = None
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        tabs = self._where.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        users = self._where[room]
        del users[user]
        if not users:
            del self._where[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._where.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        out: list[Hashable] = []
        for tabs in self._where.get(room, {}).values():
            out.extend(tabs)
        return out


async def _send_one(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(_send_one(conn, text), timeout) for conn in members),
        return_exceptions=True,
    )
    return [conn for conn, outcome in zip(members, outcomes)
            if isinstance(outcome, BaseException)]


@dataclass
class _Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


class ChatServer:
    """All the state of one app: nothing here is shared with another create_app()."""

    def __init__(self, bus: Any, send_timeout: float) -> None:
        self.bus = bus
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, _Room] = {}
        self.owner: dict[Any, str] = {}  # open socket -> its user

    def room(self, name: str) -> _Room:
        if name not in self.rooms:
            self.rooms[name] = _Room()
        return self.rooms[name]

    # -- room frames (the caller holds the room's lock) ----------------------
    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        members = self.presence.connections(room)
        failed = await broadcast(members, frame, timeout=self.send_timeout)
        if failed:
            await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        forgotten, departed = [], []
        for conn in failed:
            user = self.owner.pop(conn, None)
            if user is None:
                continue
            forgotten.append(conn)
            if self.presence.leave(room, user, conn):
                departed.append(user)
        await asyncio.gather(*(self.close(conn, 1011) for conn in forgotten))
        for user in departed:
            await self.announce_leave(room, user)

    async def announce_leave(self, room: str, user: str) -> None:
        await self.bus.emit("chat.left", {"room": room, "user": user})
        await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def close(self, conn: Any, code: int) -> None:
        try:
            await asyncio.wait_for(conn.close(code=code), self.send_timeout)
        except Exception:
            pass

    # -- the route's steps ---------------------------------------------------
    async def arrive(self, room: str, user: str, ws: Any) -> bool:
        async with self.room(room).lock:
            arrived = self.presence.join(room, user, ws)
            self.owner[ws] = user
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if await broadcast([ws], roster, timeout=self.send_timeout):
                self.owner.pop(ws, None)
                self.presence.leave(room, user, ws)
                await self.close(ws, 1011)
                return False
            if arrived:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def depart(self, room: str, user: str, ws: Any) -> None:
        async with self.room(room).lock:
            if self.owner.pop(ws, None) is not None and self.presence.leave(room, user, ws):
                await self.announce_leave(room, user)

    async def on_message(self, event: dict[str, Any]) -> None:
        room = event["room"]
        state = self.room(room)
        async with state.lock:
            state.seq += 1
            await self.send_room(room, {"type": "message", "room": room, "user": event["user"],
                                        "text": event["text"], "seq": state.seq})

    @staticmethod
    async def tell(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
            return True
        except Exception:
            return False

    async def serve(self, ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            if not valid_name(room):
                why = f"invalid room {_describe(room)}"
            elif user is None:
                why = "missing user (?user=NAME)"
            else:
                why = f"invalid user {_describe(user)}"
            await self.tell(ws, {"type": "error", "code": "bad_request", "message": why})
            try:
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            if await self.arrive(room, user, ws):
                await self.receive_loop(room, user, ws)
        except WebSocketDisconnect:
            pass
        except Exception:
            pass
        finally:
            await self.depart(room, user, ws)

    async def receive_loop(self, room: str, user: str, ws: Any) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                ok = await self.tell(ws, {"type": "error", "code": "bad_frame",
                                          "message": str(exc)})
                await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                if not ok:
                    return
                continue
            if command["type"] == "ping":
                if not await self.tell(ws, {"type": "pong"}):
                    return
            else:
                await self.bus.emit("room.message",
                                    {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    server = ChatServer(bus, send_timeout)
    bus.on("room.message", server.on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await server.serve(ws)

    return app
