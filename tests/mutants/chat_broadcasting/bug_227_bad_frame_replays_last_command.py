"""Breaks: "the connection stays open, and nobody else receives anything" (for a malformed
frame). The parsed command is kept in a variable that is not reset for each frame, so after
a bad frame has been answered the previous good command runs again. Shows when a bad frame
follows a message (or a ping): the sender gets its bad_frame error, and then the whole room
gets the old message again with a new seq (or the sender gets an extra pong).
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


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message command."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted; send JSON text")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("the frame is not JSON (nested too deeply)") from None
    except ValueError:
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    if "type" not in data:
        raise ValueError("the frame has no 'type'")
    kind = data["type"]
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        shown = repr(kind)
        if len(shown) > 40:
            shown = shown[:37] + "..."
        raise ValueError(f"unknown type {shown}: use 'message' or 'ping'")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    if text == "":
        raise ValueError("'text' is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            users = self._rooms[room] = {}
        tabs = users.get(user)
        if tabs:
            tabs.add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users or user not in users or conn not in users[user]:
            return False
        tabs = users[user]
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def _deliver(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(_deliver(conn, text)) for conn in members]
    try:
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    failed = []
    for conn, task in zip(members, tasks):
        if task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    user_of: dict[Any, str] = {}

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room()
        return rooms[name]

    async def close(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass  # already gone, or too far gone to close

    async def announce_leave(name: str, user: str) -> None:
        await events.emit("chat.left", {"room": name, "user": user})
        await send_to_room(name, {"type": "leave", "room": name, "user": user})

    async def send_to_room(name: str, frame: dict[str, Any]) -> None:
        room = room_of(name)
        async with room.lock:
            if frame["type"] == "message":
                room.seq += 1
                frame["seq"] = room.seq
            dead = await broadcast(presence.connections(name), frame, timeout=send_timeout)
            gone: list[str] = []
            for ws in dead:
                user = user_of.get(ws)
                if user is not None and presence.leave(name, user, ws):
                    gone.append(user)
        for user in gone:
            await announce_leave(name, user)
        if dead:
            await asyncio.gather(*(close(ws) for ws in dead))

    @events.on("room.message")
    async def relay(payload: dict[str, Any]) -> None:
        frame = {"type": "message", "room": payload["room"], "user": payload["user"],
                 "text": payload["text"]}
        await send_to_room(payload["room"], frame)

    async def refuse(ws: WebSocket, why: str) -> None:
        await ws.send_text(json.dumps({"type": "error", "code": "bad_request", "message": why}))
        await ws.close(BAD_REQUEST_CLOSE)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(name):
            await refuse(ws, "the room must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if not valid_name(user):
            await refuse(ws, "?user= must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        room = room_of(name)
        try:
            async with room.lock:
                arrived = presence.join(name, user, ws)
                user_of[ws] = user
                roster = {"type": "roster", "room": name, "users": presence.roster(name)}
                await asyncio.wait_for(ws.send_text(json.dumps(roster)), send_timeout)
            if arrived:
                await events.emit("chat.joined", {"room": name, "user": user})
                await send_to_room(name, {"type": "join", "room": name, "user": user})
            command: dict[str, Any] | None = None
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    await events.emit("ws.error", {"room": name, "user": user, "error": error})
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": error}))
                if command is None:
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await events.emit("room.message",
                                      {"room": name, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            if presence.leave(name, user, ws):
                await announce_leave(name, user)
            user_of.pop(ws, None)

    return app
