"""Bug: each connection keeps one `{"room", "user"}` dict and reports a bad frame by writing `"error"` into it, so after a user's first bad frame every later event of that connection (`room.message`, `chat.left`, and its leave frame) carries a stale `"error"` field.

Breaks: "The route emits `room.message` on `app.events` with `{"room": R, "user": U, "text": T}`" and "When a user goes from 1 to 0 connections: `{"type": "leave", "room": R, "user": U}` to everyone still there." ... ann sends `"oops"` (ws.error, correctly), then says "hi": `room.message` is emitted with `{"room": "lobby", "user": "ann", "error": "...", "text": "hi"}`, and when she closes, her `chat.left` and the leave frame bob receives also have the `"error"` key.
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


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in {"message", "ping"}:
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not tabs
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room, {})
        tabs = users.get(user, set())
        if conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def _deliver(conn: Any, text: str, timeout: float) -> bool:
    try:
        await asyncio.wait_for(conn.send_text(text), timeout)
    except Exception:
        return False
    return True


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    delivered = await asyncio.gather(*(_deliver(conn, text, timeout) for conn in members))
    return [conn for conn, ok in zip(members, delivered) if not ok]


class Chat:
    """One app's rooms."""

    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.sessions: dict[Any, Session] = {}
        self.closing: set[asyncio.Task[None]] = set()
        events.on("room.message", self.relay)

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def relay(self, msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            await self.to_room(room, {"type": "message", "room": room, "user": msg["user"],
                                      "text": msg["text"], "seq": self.seq[room]})

    async def to_room(self, room: str, frame: dict[str, Any]) -> None:
        """Lock held: send, forget every member that failed, then announce their leaves."""
        frames = [frame]
        while frames:
            failed = await broadcast(self.presence.connections(room), frames.pop(0),
                                     timeout=self.send_timeout)
            left = [s for s in (self.sessions.get(ws) for ws in failed) if s and s.forget()]
            for ws in failed:
                self.hang_up(ws)
            for session in left:
                await self.events.emit("chat.left", session.who)
                frames.append({"type": "leave", **session.who})

    def hang_up(self, ws: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(ws.close(code=1011), self.send_timeout)
            except Exception:
                pass

        task = asyncio.ensure_future(close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"invalid {what}"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        session = Session(self, ws, room, user)
        self.sessions[ws] = session
        try:
            await session.run()
        except WebSocketDisconnect:
            pass
        finally:
            async with self.lock(room):
                del self.sessions[ws]
                if session.forget():
                    await self.events.emit("chat.left", session.who)
                    await self.to_room(room, {"type": "leave", **session.who})


class Session:
    """One connection: the room and user it speaks for."""

    def __init__(self, chat: Chat, ws: WebSocket, room: str, user: str) -> None:
        self.chat = chat
        self.ws = ws
        self.room = room
        self.who = {"room": room, "user": user}
        self.dropped = False

    def forget(self) -> bool:
        """Leave presence (once); True if that was the user's last connection."""
        self.dropped = True
        return self.chat.presence.leave(self.room, self.who["user"], self.ws)

    async def send(self, frame: dict[str, Any]) -> bool:
        return not await broadcast([self.ws], frame, timeout=self.chat.send_timeout)

    async def run(self) -> None:
        chat, room = self.chat, self.room
        async with chat.lock(room):
            arrived = chat.presence.join(room, self.who["user"], self.ws)
            if not await self.send({"type": "roster", "room": room,
                                    "users": chat.presence.roster(room)}):
                self.forget()
                return
            if arrived:
                await chat.events.emit("chat.joined", self.who)
                await chat.to_room(room, {"type": "join", **self.who})
        while not self.dropped:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect" or self.dropped:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                if not await self.send({"type": "error", "code": "bad_frame", "message": str(exc)}):
                    return
                report = self.who
                report["error"] = str(exc)
                await chat.events.emit("ws.error", report)
                continue
            if command["type"] == "ping":
                if not await self.send({"type": "pong"}):
                    return
            else:
                await chat.events.emit("room.message", {**self.who, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    chat = Chat(day25.install(app), send_timeout)
    app.ws_route("/chat/{room}")(chat.serve)
    return app
