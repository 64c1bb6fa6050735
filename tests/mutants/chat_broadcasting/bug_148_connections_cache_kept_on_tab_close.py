"""Bug: Presence caches each room's flat list of connections and drops the cache on every join but on a leave only when the user's last tab goes, so a closed tab of a user who still has another one stays in connections().

Breaks: "A new list of every open connection in ``room`` (every tab of every user)." and "Remove ``conn``." ... ann joins with tabs t1 and t2 and leaves with t1: `connections(room)` still returns [t1, t2], and every later broadcast still tries to send to the closed tab t1.
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
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _quote(value: Any, limit: int = 30) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> {"type": "ping"} or {"type": "message", "text": T}."""
    raw = message.get("text")
    if raw is None or not isinstance(raw, str):
        raise ValueError("binary frame: frames must be JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame must be a JSON object")
    if "type" not in data:
        raise ValueError("frame has no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError(f"unknown type {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("message has no text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if len(text) == 0:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}
        self._flat: dict[str, list[Hashable]] = {}  # room -> its connections, built once per change

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not tabs
        tabs.add(conn)
        self._flat.pop(room, None)
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
        self._flat.pop(room, None)  # the room's membership changed
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        flat = self._flat.get(room)
        if flat is None:
            flat = self._flat[room] = [c for tabs in self._rooms.get(room, {}).values() for c in tabs]
        return list(flat)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def deliver(conn: Any) -> Any:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return conn
        return None

    outcomes = await asyncio.gather(*(deliver(c) for c in members))
    return [c for c in outcomes if c is not None]


class ChatServer:
    """The state of one app: presence, who each socket is, seq and a lock per room."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.timeout = send_timeout
        self.presence = Presence()
        self.who: dict[Any, str] = {}
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.closing: set[asyncio.Task[None]] = set()
        self.events.on("room.message", self.on_message)

    def lock(self, room: str) -> asyncio.Lock:
        if room not in self.locks:
            self.locks[room] = asyncio.Lock()
        return self.locks[room]

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": self.seq[room]}
            await self.send_room(room, frame)

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast (the room's lock held); drop who failed, then announce their leaves."""
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.timeout)
        while failed:
            left = []
            for conn in failed:  # forget every dropped member first
                user = self.who.get(conn)
                if user is not None and self.presence.leave(room, user, conn):
                    left.append(user)
                self.close_later(conn)
            failed = []
            for user in left:
                await self.events.emit("chat.left", {"room": room, "user": user})
                failed += await broadcast(self.presence.connections(room),
                                          {"type": "leave", "room": room, "user": user},
                                          timeout=self.timeout)

    def close_later(self, conn: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(conn.close(1011), self.timeout)
            except Exception:
                pass

        task = asyncio.ensure_future(close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request", "message": why}))
            await ws.close(BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def enter(self, ws: WebSocket, room: str, user: str) -> bool:
        async with self.lock(room):
            users = sorted(set(self.presence.roster(room)) | {user})
            try:
                await asyncio.wait_for(
                    ws.send_text(json.dumps({"type": "roster", "room": room, "users": users})),
                    self.timeout)
            except Exception:
                return False
            self.who[ws] = user
            if self.presence.join(room, user, ws):
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def exit(self, ws: WebSocket, room: str, user: str) -> None:
        async with self.lock(room):
            if self.presence.leave(room, user, ws):
                await self.events.emit("chat.left", {"room": room, "user": user})
                await self.send_room(room, {"type": "leave", "room": room, "user": user})
        self.who.pop(ws, None)

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            return await self.refuse(ws, f"bad room name {_quote(room)}")
        if not valid_name(user):
            return await self.refuse(ws, "missing user" if user is None else f"bad user name {_quote(user)}")
        if not await self.enter(ws, room, user):
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await self.events.emit("ws.error", {"room": room, "user": user,
                                                        "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await self.events.emit("room.message", {"room": room, "user": user,
                                                            "text": command["text"]})
        except (WebSocketDisconnect, OSError, RuntimeError):
            return
        finally:
            await self.exit(ws, room, user)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.handle)
    return app
