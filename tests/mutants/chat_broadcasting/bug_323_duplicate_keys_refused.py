"""Exercise 3: chat_broadcasting. parse_frame refuses a JSON object that repeats a key.

BUG (planted): "It reads an object that repeats a key (the last value wins)". parse_frame
loads with an object_pairs_hook that raises on a repeated key (an ambiguous frame is
refused rather than guessed at), so {"type": "message", "text": "a", "text": "b"} gets
a bad_frame error and ws.error instead of relaying "b".
"""

from __future__ import annotations

import asyncio
import json
import re
import reprlib
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message command."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed: send JSON text")
    try:
        data = json.loads(raw, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError(f"unknown type {_short.repr(kind)}: expected 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are unique; a repeated key is ambiguous, so refuse it."""
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"repeated key {_short.repr(key)}")
        seen[key] = value
    return seen


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            return False
        conns = users.get(user)
        if conns is None or conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    text = json.dumps(frame)
    members = list(conns)
    if not members:
        return []

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    outcomes = await asyncio.gather(
        *(asyncio.wait_for(send(conn), timeout) for conn in members), return_exceptions=True
    )
    return [conn for conn, outcome in zip(members, outcomes) if isinstance(outcome, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    owners: dict[Any, str] = {}  # connection -> its user
    closing: set[asyncio.Task[None]] = set()

    def lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_dropped(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass  # already gone

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (its lock held); drop the failed members, then announce."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        while failed:
            gone = []
            for conn in failed:  # forget them all first
                user = owners.pop(conn, None)
                if user is not None and presence.leave(room, user, conn):
                    gone.append(user)
            for conn in failed:
                task = asyncio.create_task(close_dropped(conn))
                closing.add(task)
                task.add_done_callback(closing.discard)
            failed = []
            for user in gone:
                await bus.emit("chat.left", {"room": room, "user": user})
                leave = {"type": "leave", "room": room, "user": user}
                failed += await broadcast(presence.connections(room), leave, timeout=send_timeout)

    async def on_message(event: dict[str, Any]) -> None:
        room = event["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": event["user"],
                     "text": event["text"], "seq": seqs[room]}
            await deliver(room, frame)

    bus.on("room.message", on_message)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
        except (WebSocketDisconnect, RuntimeError, OSError):
            return False
        return True

    async def depart(room: str, user: str, ws: WebSocket) -> None:
        async with lock(room):
            owners.pop(ws, None)
            if presence.leave(room, user, ws):
                await bus.emit("chat.left", {"room": room, "user": user})
                await deliver(room, {"type": "leave", "room": room, "user": user})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            problem = f"missing or invalid {what}: 1-32 characters of [A-Za-z0-9_.-]"
            if await reply(ws, {"type": "error", "code": "bad_request", "message": problem}):
                try:
                    await ws.close(BAD_REQUEST_CLOSE)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    pass
            return
        async with lock(room):
            arrived = presence.join(room, user, ws)
            owners[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            if not await reply(ws, roster):
                owners.pop(ws, None)
                presence.leave(room, user, ws)
                return
            if arrived:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await deliver(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    if not await reply(ws, {"type": "error", "code": "bad_frame",
                                            "message": error}):
                        break
                    await bus.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    if not await reply(ws, {"type": "pong"}):
                        break
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            await depart(room, user, ws)

    return app
