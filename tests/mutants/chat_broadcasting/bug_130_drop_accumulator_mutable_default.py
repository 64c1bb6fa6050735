"""Bug: the helper that forgets dropped members collects the users who left in a mutable default argument (`left=[]`), so every later drop announces again the leaves of everyone dropped before, in whatever room it happens.

Breaks: "a dropped or closed member's later clean-up must not announce the leave twice." and "When a user goes from 1 to 0 connections: `{"type": "leave", "room": R, "user": U}` to everyone still there." ... bob dies in lobby (his leave is announced once, correctly); later cy stalls in kitchen and is dropped: kitchen hears a leave for bob (who was never there) as well as cy's, and `chat.left` is emitted for bob a second time.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
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


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return type(value) is str and bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frames are not supported")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if type(data) is not dict:
        raise ValueError("a frame must be a JSON object")
    kind = data.get("type")
    if kind == "ping" and type(kind) is str:
        return {"type": "ping"}
    if kind != "message" or type(kind) is not str:
        raise ValueError("missing type" if kind is None else f"unknown type {repr(kind)[:40]}")
    text = data.get("text")
    if type(text) is not str:
        raise ValueError("text must be a string")
    if text == "":
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} characters long, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._map: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._map[room][user]
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._map.get(room)
        if users is None or user not in users or conn not in users[user]:
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._map[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        users = self._map.get(room)
        return sorted(users) if users else []

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        users = self._map.get(room)
        return [c for tabs in users.values() for c in tabs] if users else []


async def _send(conn: Any, text: str, timeout: float) -> Any:
    """None if the frame got through, else the member."""
    try:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)
    except Exception:
        return conn
    return None


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = list(conns)
    text = json.dumps(frame)
    results = await asyncio.gather(*(_send(conn, text, timeout) for conn in snapshot))
    return [conn for conn in results if conn is not None]


@dataclass
class Chat:
    """Everything one app remembers."""

    events: Any
    send_timeout: float
    presence: Presence = field(default_factory=Presence)
    seq: defaultdict[str, int] = field(default_factory=lambda: defaultdict(int))
    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    members: dict[Any, tuple[str, str]] = field(default_factory=dict)  # conn -> (room, user)
    dropped: set[Any] = field(default_factory=set)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


async def _close(ws: Any, timeout: float) -> None:
    try:
        await asyncio.wait_for(ws.close(code=1011), timeout)
    except Exception:
        pass


def forget(chat: Chat, room: str, failed: list[Any], left: list[str] = []) -> list[str]:
    """Take every failed member out of ``room`` at once; return the users that left."""
    for ws in failed:
        chat.dropped.add(ws)
        _, user = chat.members.get(ws, (room, None))
        if user is not None and chat.presence.leave(room, user, ws):
            left.append(user)
        task = asyncio.ensure_future(_close(ws, chat.send_timeout))
        chat.tasks.add(task)
        task.add_done_callback(chat.tasks.discard)
    return left


async def send_room(chat: Chat, room: str, frame: dict[str, Any]) -> None:
    """Under the room's lock: broadcast, then drop and announce who failed."""
    failed = await broadcast(chat.presence.connections(room), frame, timeout=chat.send_timeout)
    if not failed:
        return
    for user in forget(chat, room, failed):
        await chat.events.emit("chat.left", {"room": room, "user": user})
        await send_room(chat, room, {"type": "leave", "room": room, "user": user})


async def reply(chat: Chat, ws: Any, frame: dict[str, Any]) -> bool:
    return not await broadcast([ws], frame, timeout=chat.send_timeout)


async def refuse(ws: WebSocket, what: str) -> None:
    try:
        await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                       "message": f"missing or invalid {what}"}))
        await ws.close(code=BAD_REQUEST_CLOSE)
    except Exception:
        pass


async def serve(chat: Chat, ws: WebSocket) -> None:
    await ws.accept()
    room = ws.path_params.get("room")
    user = ws.query_params.get("user")
    if not valid_name(room):
        return await refuse(ws, "room")
    if not valid_name(user):
        return await refuse(ws, "user")
    chat.members[ws] = (room, user)
    try:
        async with chat.locks[room]:
            first = chat.presence.join(room, user, ws)
            if not await reply(chat, ws, {"type": "roster", "room": room,
                                          "users": chat.presence.roster(room)}):
                chat.presence.leave(room, user, ws)
                return
            if first:
                await chat.events.emit("chat.joined", {"room": room, "user": user})
                await send_room(chat, room, {"type": "join", "room": room, "user": user})
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect" or ws in chat.dropped:
                break
            try:
                command = parse_frame(message)
            except ValueError as exc:
                if not await reply(chat, ws, {"type": "error", "code": "bad_frame",
                                              "message": str(exc)}):
                    break
                await chat.events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                if not await reply(chat, ws, {"type": "pong"}):
                    break
            else:
                await chat.events.emit("room.message",
                                       {"room": room, "user": user, "text": command["text"]})
    except WebSocketDisconnect:
        pass
    finally:
        async with chat.locks[room]:
            chat.members.pop(ws, None)
            chat.dropped.discard(ws)
            if chat.presence.leave(room, user, ws):
                await chat.events.emit("chat.left", {"room": room, "user": user})
                await send_room(chat, room, {"type": "leave", "room": room, "user": user})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    chat = Chat(day25.install(app), send_timeout)

    @chat.events.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with chat.locks[room]:
            chat.seq[room] += 1
            await send_room(chat, room, {"type": "message", "room": room, "user": msg["user"],
                                         "text": msg["text"], "seq": chat.seq[room]})

    @app.ws_route("/chat/{room}")
    async def chat_route(ws: WebSocket) -> None:
        await serve(chat, ws)

    return app
