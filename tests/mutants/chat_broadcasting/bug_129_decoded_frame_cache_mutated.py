"""Bug: `parse_frame` decodes through an `lru_cache` and then pops `type` off the cached dict, so the second frame with the same text finds its `type` already gone and is refused.

Breaks: "`{"type": "ping"}` is answered with `{"type": "pong"}`." and "Client sends `{"type": "message", "text": T}` ... a **listener** broadcasts it to every connection in the room" ... ann sends `{"type": "ping"}` twice: the first gets a pong, the second a `bad_frame` error ("the frame has no type"); likewise saying "ok" a second time in the same session is refused instead of relayed.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


@functools.lru_cache(maxsize=512)
def _decode(raw: str) -> Any:
    """json.loads, remembered: chat clients send the same few frames ("ping") again and again."""
    return json.loads(raw)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("a binary frame: frames must be JSON text")
    try:
        data = _decode(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    kind = data.pop("type", None)  # what is left are the fields of the command
    if kind is None:
        raise ValueError("the frame has no type")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown type {repr(kind)[:50]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1 to {MAX_TEXT} characters long")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self.rooms.setdefault(room, {})
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self.rooms.get(room)
        if users is None or conn not in users.get(user, ()):
            return False
        users[user].remove(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self.rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self.rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        out: list[Hashable] = []
        for conns in self.rooms.get(room, {}).values():
            out.extend(conns)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = {asyncio.ensure_future(conn.send_text(text)): conn for conn in members}
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    return [conn for task, conn in tasks.items()
            if task in pending or task.cancelled() or task.exception() is not None]


class ChatServer:
    """The state of one app: presence, each room's seq and lock, and who is being dropped."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.user_of: dict[Any, str] = {}
        self.dropped: set[Any] = set()
        self.background: set[asyncio.Task[None]] = set()
        self.events.on("room.message", self.on_message)

    def lock(self, room: str) -> asyncio.Lock:
        if room not in self.locks:
            self.locks[room] = asyncio.Lock()
        return self.locks[room]

    async def send_to(self, ws: Any, frame: dict[str, Any]) -> bool:
        return not await broadcast([ws], frame, timeout=self.send_timeout)

    async def close_dropped(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), self.send_timeout)
        except Exception:
            pass

    async def to_room(self, room: str, frame: dict[str, Any]) -> None:
        """Caller holds the room's lock. Failed members leave together, then are announced."""
        frames = [frame]
        while frames:
            failed = await broadcast(self.presence.connections(room), frames.pop(0),
                                     timeout=self.send_timeout)
            left = []
            for ws in failed:
                self.dropped.add(ws)
                user = self.user_of.get(ws)
                if user is not None and self.presence.leave(room, user, ws):
                    left.append(user)
                task = asyncio.ensure_future(self.close_dropped(ws))
                self.background.add(task)
                task.add_done_callback(self.background.discard)
            for user in left:
                await self.events.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    async def on_message(self, msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            await self.to_room(room, {"type": "message", "room": room, "user": msg["user"],
                                      "text": msg["text"], "seq": self.seq[room]})

    async def session(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for what, value in (("room", room), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_text(json.dumps({
                        "type": "error", "code": "bad_request",
                        "message": f"{what} must be 1-32 characters of A-Z a-z 0-9 _ . -"}))
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        self.user_of[ws] = user
        try:
            async with self.lock(room):
                arrived = self.presence.join(room, user, ws)
                roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
                if not await self.send_to(ws, roster):
                    self.presence.leave(room, user, ws)
                    return
                if arrived:
                    await self.events.emit("chat.joined", {"room": room, "user": user})
                    await self.to_room(room, {"type": "join", "room": room, "user": user})
            await self.receive_loop(ws, room, user)
        except WebSocketDisconnect:
            pass
        finally:
            async with self.lock(room):
                self.user_of.pop(ws, None)
                self.dropped.discard(ws)
                if self.presence.leave(room, user, ws):
                    await self.events.emit("chat.left", {"room": room, "user": user})
                    await self.to_room(room, {"type": "leave", "room": room, "user": user})

    async def receive_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect" or ws in self.dropped:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                if not await self.send_to(ws, {"type": "error", "code": "bad_frame",
                                               "message": str(exc)}):
                    return
                await self.events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                if not await self.send_to(ws, {"type": "pong"}):
                    return
            else:
                await self.events.emit("room.message",
                                       {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.session)
    return app
