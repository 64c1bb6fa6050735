"""Bug: the pong is sent inside its own try that reports any failure as `ws.error`, while every other send lets `WebSocketDisconnect` reach the handler's quiet disconnect branch; a tab that is gone when its pong goes out is reported as an error.

Breaks: "A normal disconnect (`WebSocketDisconnect`, or a `websocket.disconnect` message) is a leave, **not** an error: never emit `ws.error` for it" and "A connection that dies (no closing handshake, or a send to it fails) leaves like one that closed." ... ann sends {"type": "ping"} and her connection dies before the pong: the send raises WebSocketDisconnect(1006), and the app emits ws.error {"room": "lobby", "user": "ann", "error": "pong failed: WebSocketDisconnect(...)"} before her leave.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = frozenset({"message", "ping"})


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if type(kind) is not str or kind not in KINDS:
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if len(text) == 0:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} characters long, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = len(tabs) == 0
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room, {})
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            self._rooms.pop(room, None)
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def _send(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def _deliver(conn: Any, text: str, timeout: float) -> bool:
    try:
        await asyncio.wait_for(_send(conn, text), timeout)
    except Exception:  # raised, or TimeoutError: wait_for has cancelled the send
        return False
    return True


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    took = await asyncio.gather(*(_deliver(conn, text, timeout) for conn in members))
    return [conn for conn, ok in zip(members, took) if not ok]


class Tab:
    """One open connection: what presence stores, and what a broadcast sends to."""

    __slots__ = ("user", "ws")

    def __init__(self, user: str, ws: WebSocket) -> None:
        self.user = user
        self.ws = ws

    def send_text(self, text: str) -> Any:
        return self.ws.send_text(text)

    async def close(self, code: int) -> None:
        try:
            await self.ws.close(code)
        except Exception:  # already gone: nothing to close
            pass


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


class ChatServer:
    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self.app = NexiosApp()
        self.events = day25.install(self.app)
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.events.on("room.message", self.on_message)
        self.app.ws_route("/chat/{room}")(self.endpoint)

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room()
        return self.rooms[name]

    async def announce(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to ``room`` (its lock held); drop the failures, then their leaves."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        left: list[str] = []
        while failed or left:
            for tab in failed:
                if self.presence.leave(room, tab.user, tab):
                    left.append(tab.user)
            for tab in failed:
                await tab.close(1011)
            failed = []
            if left:
                user = left.pop(0)
                await self.events.emit("chat.left", {"room": room, "user": user})
                failed = await broadcast(self.presence.connections(room),
                                         {"type": "leave", "room": room, "user": user},
                                         timeout=self.send_timeout)

    async def on_message(self, payload: dict[str, Any]) -> None:
        name = payload["room"]
        room = self.room(name)
        async with room.lock:
            room.seq += 1
            await self.announce(name, {"type": "message", "room": name, "user": payload["user"],
                                       "text": payload["text"], "seq": room.seq})

    async def enter(self, name: str, tab: Tab) -> bool:
        async with self.room(name).lock:
            arrived = self.presence.join(name, tab.user, tab)
            roster = {"type": "roster", "room": name, "users": self.presence.roster(name)}
            try:
                await tab.ws.send_text(json.dumps(roster))
            except Exception:
                self.presence.leave(name, tab.user, tab)
                return False
            if arrived:
                await self.events.emit("chat.joined", {"room": name, "user": tab.user})
                await self.announce(name, {"type": "join", "room": name, "user": tab.user})
            return True

    async def exit(self, name: str, tab: Tab) -> None:
        async with self.room(name).lock:
            if self.presence.leave(name, tab.user, tab):
                await self.events.emit("chat.left", {"room": name, "user": tab.user})
                await self.announce(name, {"type": "leave", "room": name, "user": tab.user})

    async def refuse(self, ws: WebSocket, what: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": what}))
            await ws.close(BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(name):
            await self.refuse(ws, "room must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if not valid_name(user):
            await self.refuse(ws, "user must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        tab = Tab(user, ws)
        try:
            if not await self.enter(name, tab):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    problem = str(exc)
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": problem}))
                    await self.events.emit("ws.error", {"room": name, "user": user,
                                                        "error": problem})
                    continue
                if command["type"] == "ping":
                    try:
                        await ws.send_text(json.dumps({"type": "pong"}))
                    except Exception as exc:
                        await self.events.emit("ws.error", {"room": name, "user": user,
                                                            "error": f"pong failed: {exc!r}"})
                        return
                else:
                    await self.events.emit("room.message", {"room": name, "user": user,
                                                            "text": command["text"]})
        except WebSocketDisconnect:
            pass
        except Exception:  # a send to a dead socket, a receive after our close
            pass
        finally:
            await self.exit(name, tab)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    return ChatServer(send_timeout).app
