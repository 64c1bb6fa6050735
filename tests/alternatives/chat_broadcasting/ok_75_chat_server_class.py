"""Exercise 3: chat_broadcasting.

Design: a ``ChatServer`` object per app holds a ``Room`` dataclass per room name (its
lock, its seq and which user each connection belongs to) next to one ``Presence``; the
route and the ``room.message`` listener are its bound methods. ``broadcast`` starts
one task per member and waits for them all with ``asyncio.wait(timeout=...)``,
cancelling the sends still pending; failures are taken out as a batch, then announced.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket

from day25 import install

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return bool(NAME.fullmatch(value))


def _quote(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: frames must be JSON text")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {str(exc)[:80]}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError(f"unknown type {_quote(kind)}: expected 'message' or 'ping'")
    text = data.get("text")
    if "text" not in data:
        raise ValueError("message without a text")
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if len(text) == 0:
        raise ValueError("empty text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text too long: {len(text)} characters, at most {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs[room][user]
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        if room not in self._tabs or user not in self._tabs[room]:
            return False
        tabs = self._tabs[room][user]
        if conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._tabs[room][user]
        if not self._tabs[room]:
            del self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        if room not in self._tabs:
            return []
        return sorted(self._tabs[room])

    def connections(self, room: str) -> list[Hashable]:
        if room not in self._tabs:
            return []
        out: list[Hashable] = []
        for tabs in self._tabs[room].values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    text = json.dumps(frame)
    snapshot = list(conns)
    if not snapshot:
        return []

    async def deliver(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.create_task(deliver(conn)) for conn in snapshot]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    failed = []
    for conn, task in zip(snapshot, tasks):
        if task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


@dataclass
class Room:
    name: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0
    user_of: dict[Any, str] = field(default_factory=dict)  # connection -> user


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.events = install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.events.on("room.message", self.on_message)

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(name)
        return self.rooms[name]

    def _remove(self, room: Room, conn: Any) -> str | None:
        """Forget ``conn``; the user who left by it (their last tab), else None."""
        if conn not in room.user_of:
            return None
        user = room.user_of.pop(conn)
        return user if self.presence.leave(room.name, user, conn) else None

    async def _close(self, conns: list[Any]) -> None:
        for conn in conns:
            try:
                await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
            except Exception:
                pass

    async def _send_room(self, room: Room, frame: dict[str, Any]) -> None:
        """Send to everyone in ``room`` (its lock held), then drop who failed, together."""
        members = self.presence.connections(room.name)
        failed = await broadcast(members, frame, timeout=self.send_timeout)
        leaving: list[str] = []
        while failed or leaving:
            for conn in failed:
                user = self._remove(room, conn)
                if user is not None:
                    leaving.append(user)
            await self._close(failed)
            failed = []
            if leaving:
                user = leaving.pop(0)
                failed = await broadcast(self.presence.connections(room.name),
                                         {"type": "leave", "room": room.name, "user": user},
                                         timeout=self.send_timeout)
                await self.events.emit("chat.left", {"room": room.name, "user": user})

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = self.room(payload["room"])
        async with room.lock:
            room.seq += 1
            await self._send_room(room, {
                "type": "message", "room": room.name, "user": payload["user"],
                "text": payload["text"], "seq": room.seq,
            })

    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": why}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room_name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room_name):
            return await self.refuse(ws, f"bad room name {_quote(room_name)}")
        if user is None:
            return await self.refuse(ws, "the user is missing (?user=NAME)")
        if not valid_name(user):
            return await self.refuse(ws, f"bad user name {_quote(user)}")
        room = self.room(room_name)
        async with room.lock:
            room.user_of[ws] = user
            arrived = self.presence.join(room_name, user, ws)
            roster = {"type": "roster", "room": room_name,
                      "users": self.presence.roster(room_name)}
            try:
                await asyncio.wait_for(ws.send_text(json.dumps(roster)), self.send_timeout)
            except Exception:
                self._remove(room, ws)
                await self._close([ws])
                return
            if arrived:
                await self._send_room(room, {"type": "join", "room": room_name, "user": user})
                await self.events.emit("chat.joined", {"room": room_name, "user": user})
        try:
            await self.receive_loop(ws, room_name, user)
        finally:
            async with room.lock:
                gone = self._remove(room, ws)
                if gone is not None:
                    await self._send_room(room, {"type": "leave", "room": room_name,
                                                 "user": gone})
                    await self.events.emit("chat.left", {"room": room_name, "user": gone})

    async def receive_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            try:
                message = await ws.receive()
            except Exception:
                return
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                reason = str(exc)
                try:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": reason}))
                except Exception:
                    return
                await self.events.emit("ws.error", {"room": room, "user": user,
                                                    "error": reason})
                continue
            if command["type"] == "ping":
                try:
                    await ws.send_text('{"type": "pong"}')
                except Exception:
                    return
            else:
                await self.events.emit("room.message", {"room": room, "user": user,
                                                        "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.serve)
    return app
