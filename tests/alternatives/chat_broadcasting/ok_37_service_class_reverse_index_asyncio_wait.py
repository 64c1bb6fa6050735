"""Style: a ChatService class whose bound methods are the route and the listener, a Presence with a connection -> user reverse index, and a broadcast built on asyncio.wait with one deadline for every member.

Follows: "True only for a str of 1-32 characters of [A-Za-z0-9_.-]" (isinstance + fullmatch, no $); "Raise ValueError ... Never raise anything else" (RecursionError and ValueError from json.loads both become ValueError, type checked with isinstance before the set lookup, repr quoted and cut short); "True when the user just arrived (0 -> 1)", "True when it was the user's last connection (1 -> 0)", "changes nothing" for an unknown connection, "sorted, each once", "A new list of every open connection"; "Serialise frame to JSON once with json.dumps ... await conn.send_text(text)", "every other member still gets the frame, and the whole broadcast takes about timeout at most" (tasks started together, asyncio.wait(timeout=...), pending ones cancelled and returned), "Work on a copy of conns"; "Always await ws.accept() first", bad_request + 4400; "The new connection's first frame is the roster", join to everyone after it, only on 0 -> 1; leave only on 1 -> 0 to those still there; "a listener of room.message does the broadcast" with a per-room seq that never resets, under a per-room lock so "Every member sees a room's frames in the same order"; bad_frame + ws.error and the socket stays open; ping -> pong; "A normal disconnect ... is a leave, not an error"; "Members dropped by one broadcast leave together: forget them all before announcing any of their leaves", closed with 1011 in the background.
"""

from __future__ import annotations

import asyncio
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

_KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    if message.get("text") is None:
        raise ValueError("binary frames are not allowed, send JSON text")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if not (isinstance(kind, str) and kind in _KINDS):
        raise ValueError(f"unknown type {_quote(kind)}")
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
        raise ValueError(f"text has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: dict[str, dict[str, set[Hashable]]] = {}
        self._owner: dict[tuple[str, Hashable], str] = {}  # (room, conn) -> user

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._tabs.setdefault(room, {})
        tabs = users.get(user)
        if tabs is None:
            tabs = users[user] = set()
        tabs.add(conn)
        self._owner[room, conn] = user
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        if self._owner.get((room, conn)) != user:
            return False
        del self._owner[room, conn]
        users = self._tabs[room]
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._tabs[room]
        return True

    def owner(self, room: str, conn: Hashable) -> str | None:
        return self._owner.get((room, conn))

    def roster(self, room: str) -> list[str]:
        return sorted(self._tabs.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self._tabs.get(room, {}).values():
            out.extend(tabs)
        return out


async def _send(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(_send(conn, text)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    if pending:
        await asyncio.wait(pending)  # let the cancellations finish
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


class ChatService:
    """The state of one app: presence, seq counters and a lock per room."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.closers: set[asyncio.Future[Any]] = set()
        self.events.on("room.message", self.on_message)

    def lock(self, room: str) -> asyncio.Lock:
        if room not in self.locks:
            self.locks[room] = asyncio.Lock()
        return self.locks[room]

    async def _close(self, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
        except Exception:
            pass

    async def publish(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (its lock held); drop whoever failed, together."""
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.send_timeout)
        departed = []
        for conn in failed:
            user = self.presence.owner(room, conn)
            if user is not None and self.presence.leave(room, user, conn):
                departed.append(user)
        for conn in failed:
            closer = asyncio.ensure_future(self._close(conn))
            self.closers.add(closer)
            closer.add_done_callback(self.closers.discard)
        for user in departed:
            await self.announce_leave(room, user)

    async def announce_leave(self, room: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": room, "user": user})
        await self.publish(room, {"type": "leave", "room": room, "user": user})

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            self.seq[room] = n = self.seq.get(room, 0) + 1
            await self.publish(room, {"type": "message", "room": room, "user": payload["user"],
                                      "text": payload["text"], "seq": n})

    async def reply(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif not valid_name(user):
            problem = "user must be given, 1-32 characters of [A-Za-z0-9_.-]"
        if problem:
            try:
                await self.reply(ws, {"type": "error", "code": "bad_request", "message": problem})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass
            return
        try:
            async with self.lock(room):
                arrived = self.presence.join(room, user, ws)
                await self.reply(ws, {"type": "roster", "room": room,
                                      "users": self.presence.roster(room)})
                if arrived:
                    await self.events.emit("chat.joined", {"room": room, "user": user})
                    await self.publish(room, {"type": "join", "room": room, "user": user})
            await self.receive_loop(ws, room, user)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with self.lock(room):
                if self.presence.leave(room, user, ws):
                    await self.announce_leave(room, user)

    async def receive_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await self.reply(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                await self.events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                await self.reply(ws, {"type": "pong"})
            else:
                await self.events.emit(
                    "room.message", {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    service = ChatService(app, send_timeout)
    app.ws_route("/chat/{room}")(service.handle)
    return app
