"""Exercise 3: chat_broadcasting. Closures around per-room locks; the listener turns the event's payload into the broadcast frame.

BUG (planted): "Build that frame as a new dict: the event's payload is left as emitted
(another listener of room.message, registered after yours, sees it without type or
seq)". This version's frame *is* the payload (``frame = msg`` then adds ``type`` and
``seq``): one object where the page wants two, so every later listener of
``room.message`` sees ``{"room", "user", "text", "type": "message", "seq": N}``. A
student sees the payload already has room, user and text and saves a copy; every
member still gets the right frame, so the public checks pass.
"""

from __future__ import annotations

import asyncio
import contextlib
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
DROPPED_CLOSE = 1011


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message command."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    if not isinstance(text, str):
        raise ValueError("the frame is not text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ValueError(f"the frame's type must be a string, got {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown frame type {_short(kind)}")
    if "text" not in data:
        raise ValueError("a message needs a text")
    body = data["text"]
    if not isinstance(body, str):
        raise ValueError(f"the text must be a string, got {type(body).__name__}")
    if not body:
        raise ValueError("the text is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"the text is longer than {MAX_TEXT} characters ({len(body)})")
    return {"type": "message", "text": body}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        first = not conns
        conns.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            return False
        conns = users.get(user)
        if conns is None or conn not in conns:
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


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    text = json.dumps(frame)
    members = list(conns)

    async def send(conn: Any) -> None:
        await asyncio.wait_for(conn.send_text(text), timeout)

    results = await asyncio.gather(*(send(c) for c in members), return_exceptions=True)
    return [c for c, r in zip(members, results) if isinstance(r, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seq: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    owner: dict[str, dict[WebSocket, str]] = {}  # room -> connection -> its user

    def lock_of(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def close_dropped(conn: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(code=DROPPED_CLOSE), send_timeout)

    def forget(room: str, conn: Any) -> str | None:
        """Take ``conn`` out of the room; its user if that was their last tab."""
        user = owner.get(room, {}).pop(conn, None)
        if user is not None and presence.leave(room, user, conn):
            return user
        return None

    async def send_and_drop(room: str, frame: dict[str, Any]) -> None:
        """Broadcast ``frame`` to the room (lock held); drop and announce who failed."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        while failed:
            gone = [u for u in (forget(room, c) for c in failed) if u is not None]
            await asyncio.gather(*(close_dropped(c) for c in failed))
            failed = []
            for user in gone:
                more = await broadcast(
                    presence.connections(room),
                    {"type": "leave", "room": room, "user": user},
                    timeout=send_timeout,
                )
                await events.emit("chat.left", {"room": room, "user": user})
                gone.extend(u for u in (forget(room, c) for c in more) if u is not None)
                failed.extend(more)
            await asyncio.gather(*(close_dropped(c) for c in failed))
            failed = []

    @events.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock_of(room):
            seq[room] = seq.get(room, 0) + 1
            # the payload already holds room, user and text: stamp it into the frame
            frame = msg
            frame["type"] = "message"
            frame["seq"] = seq[room]
            await send_and_drop(room, frame)

    async def enter(ws: WebSocket, room: str, user: str) -> bool:
        async with lock_of(room):
            first = presence.join(room, user, ws)
            owner.setdefault(room, {})[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            try:
                await asyncio.wait_for(ws.send_text(json.dumps(roster)), send_timeout)
            except Exception:
                forget(room, ws)
                await close_dropped(ws)
                return False
            if first:
                await send_and_drop(room, {"type": "join", "room": room, "user": user})
                await events.emit("chat.joined", {"room": room, "user": user})
            return True

    async def leave(ws: WebSocket, room: str) -> None:
        async with lock_of(room):
            user = forget(room, ws)
            if user is not None:
                await send_and_drop(room, {"type": "leave", "room": room, "user": user})
                await events.emit("chat.left", {"room": room, "user": user})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = f"invalid room name {_short(room)}: 1-32 of [A-Za-z0-9_.-]"
        elif user is None:
            problem = "missing user: connect with ?user=NAME"
        elif not valid_name(user):
            problem = f"invalid user name {_short(user)}: 1-32 of [A-Za-z0-9_.-]"
        if problem is not None:
            with contextlib.suppress(Exception):
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            return
        if not await enter(ws, room, user):
            return
        try:
            while True:
                try:
                    message = await ws.receive()
                except (WebSocketDisconnect, RuntimeError, OSError):
                    break
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    try:
                        await ws.send_text(json.dumps(
                            {"type": "error", "code": "bad_frame", "message": error}))
                    except Exception:
                        break
                    await events.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    try:
                        await ws.send_text(json.dumps({"type": "pong"}))
                    except Exception:
                        break
                    continue
                await events.emit("room.message",
                                  {"room": room, "user": user, "text": command["text"]})
        finally:
            await leave(ws, room)

    return app
