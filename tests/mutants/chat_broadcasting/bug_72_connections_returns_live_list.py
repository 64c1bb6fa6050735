"""Bug: Presence caches each room's connections in a list and connections() hands out that cached list itself.

Breaks: "A new list of every open connection in room (every tab of every user)." A caller
that keeps or edits the returned list sees later joins and leaves, or corrupts presence.
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
SEND_TIMEOUT = 2.0

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command, or ValueError (and nothing else)."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type: {_short.repr(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    body = data["text"]
    if not isinstance(body, str):
        raise ValueError("text must be a string")
    if not body:
        raise ValueError("text must not be empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": body}


class Presence:
    """room -> user -> set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}
        self._flat: dict[str, list[Hashable]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        arrived = not conns
        if conn not in conns:
            self._flat.setdefault(room, []).append(conn)
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            return False
        conns = users.get(user)
        if conns is None or conn not in conns:
            return False
        conns.discard(conn)
        flat = self._flat.get(room, [])
        if conn in flat:
            flat.remove(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        # the cached list, kept up to date by join and leave (no need to rebuild it)
        return self._flat.setdefault(room, [])


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send to a snapshot side by side, each send bounded; return the failed members."""
    snapshot = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> None:
        await asyncio.wait_for(conn.send_text(text), timeout)

    outcomes = await asyncio.gather(*(one(c) for c in snapshot), return_exceptions=True)
    return [c for c, out in zip(snapshot, outcomes) if isinstance(out, BaseException)]


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.who: dict[Any, tuple[str, str]] = {}
        self.background: set[asyncio.Task[None]] = set()

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def deliver(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast with the room's lock held; drop whoever failed, then announce."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        if not failed:
            return
        gone: list[str] = []
        for conn in failed:
            _, user = self.who.get(conn, (room, ""))
            if self.presence.leave(room, user, conn):
                gone.append(user)
        for conn in failed:
            self.close_later(conn)
        for user in gone:
            await self.announce_leave(room, user)

    async def announce_leave(self, room: str, user: str) -> None:
        await self.app.events.emit("chat.left", {"room": room, "user": user})
        await self.deliver(room, {"type": "leave", "room": room, "user": user})

    def close_later(self, conn: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
            except Exception:
                pass

        task = asyncio.get_running_loop().create_task(close())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": self.seq[room]}
            await self.deliver(room, frame)

    async def reply(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def route(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of A-Z, a-z, 0-9, _ . -"
        elif not valid_name(user):
            problem = "user must be 1-32 characters of A-Z, a-z, 0-9, _ . -"
        if problem is not None:
            try:
                await self.reply(ws, {"type": "error", "code": "bad_request", "message": problem})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        self.who[ws] = (room, user)
        try:
            async with self.lock(room):
                arrived = self.presence.join(room, user, ws)
                await self.reply(ws, {"type": "roster", "room": room,
                                      "users": self.presence.roster(room)})
                if arrived:
                    await self.app.events.emit("chat.joined", {"room": room, "user": user})
                    await self.deliver(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    reason = str(exc)
                    await self.reply(ws, {"type": "error", "code": "bad_frame", "message": reason})
                    await self.app.events.emit("ws.error",
                                               {"room": room, "user": user, "error": reason})
                    continue
                if command["type"] == "ping":
                    await self.reply(ws, {"type": "pong"})
                else:
                    await self.app.events.emit("room.message", {"room": room, "user": user,
                                                                "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with self.lock(room):
                if self.presence.leave(room, user, ws):
                    await self.announce_leave(room, user)
            self.who.pop(ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await server.route(ws)

    app.chat_server = server  # type: ignore[attr-defined]
    return app
