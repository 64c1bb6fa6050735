"""Bug: Presence keeps a flat dict keyed "room_user" and finds a room's users by the prefix "room_", but `_` is allowed in names, so rooms whose names start with another room's name and `_` leak into it.

Breaks: "`Presence` | room -> user -> that user's open connections: ... `roster(room)`, `connections(room)`" and "`room` and `user` are 1-32 characters of `[A-Za-z0-9_.-]`" ... With ann in room `dev` and bob in room `dev_ops`, `roster("dev")` is `["ann", "ops_bob"]`, `connections("dev")` holds bob's socket, and ann's messages in `dev` reach bob.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
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
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room, kept flat: "room_user" -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: dict[str, set[Hashable]] = {}

    @staticmethod
    def _key(room: str, user: str) -> str:
        return f"{room}_{user}"

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.setdefault(self._key(room, user), set())
        first = not tabs
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = self._key(room, user)
        tabs = self._tabs.get(key)
        if not tabs or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self._tabs[key]
        return True

    def roster(self, room: str) -> list[str]:
        prefix = room + "_"
        return sorted(key[len(prefix):] for key in self._tabs if key.startswith(prefix))

    def connections(self, room: str) -> list[Hashable]:
        prefix = room + "_"
        return [conn for key, tabs in self._tabs.items() if key.startswith(prefix)
                for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return False
        return True

    delivered = await asyncio.gather(*(send(conn) for conn in members))
    return [conn for conn, ok in zip(members, delivered) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    users: dict[Any, str] = {}  # connection -> its user

    def lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close(ws: Any, code: int) -> None:
        try:
            await asyncio.wait_for(ws.close(code=code), send_timeout)
        except Exception:
            pass

    async def drop(room: str, failed: list[Any]) -> None:
        """Forget every failed member, then announce the leaves (the room lock is held)."""
        leaving: deque[str] = deque()
        closing: list[Any] = []

        def forget(members: list[Any]) -> None:
            for member in members:
                if presence.leave(room, users[member], member):
                    leaving.append(users[member])
                closing.append(member)

        forget(failed)
        while leaving:
            user = leaving.popleft()
            await events.emit("chat.left", {"room": room, "user": user})
            frame = {"type": "leave", "room": room, "user": user}
            forget(await broadcast(presence.connections(room), frame, timeout=send_timeout))
        for member in closing:
            await close(member, 1011)

    async def send_to_room(room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        await drop(room, failed)

    async def reply(room: str, ws: Any, frame: dict[str, Any]) -> None:
        async with lock(room):
            if ws in presence.connections(room):
                await drop(room, await broadcast([ws], frame, timeout=send_timeout))

    @app.events.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": msg["user"],
                     "text": msg["text"], "seq": seqs[room]}
            await send_to_room(room, frame)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"{what} must be 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        users[ws] = user
        try:
            async with lock(room):
                first = presence.join(room, user, ws)
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                if await broadcast([ws], roster, timeout=send_timeout):
                    presence.leave(room, user, ws)  # gone before its roster: never announced
                    await close(ws, 1011)
                    return
                if first:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await send_to_room(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await reply(room, ws, {"type": "error", "code": "bad_frame",
                                           "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await reply(room, ws, {"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with lock(room):
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await send_to_room(room, {"type": "leave", "room": room, "user": user})
            users.pop(ws, None)

    return app
