"""Bug: the route refuses the user names "null", "undefined" and "None" as missing (what a JavaScript client sends for an unset variable).

Breaks: "`room` and `user` are 1-32 characters of `[A-Za-z0-9_.-]`: those 64 ASCII characters and no others" / "If `room` or `user` is missing or invalid, send ..." ... /chat/lobby?user=null is a valid user name but gets {"type": "error", "code": "bad_request", ...} and close 4400 instead of a roster and a join.
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
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _load(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command, else ValueError."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    data = _load(text)
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError("unknown type " + repr(kind)[:30])
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("missing text")
    body = data["text"]
    if not isinstance(body, str):
        raise ValueError("text must be a string, not " + type(body).__name__)
    if len(body) == 0:
        raise ValueError("text is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text has {len(body)} characters, at most {MAX_TEXT} allowed")
    return {"type": "message", "text": body}


class Presence:
    """room -> user -> that user's open connections."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            return False
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        users = self._rooms.get(room, {})
        return [conn for tabs in users.values() for conn in tabs]


async def _send_one(conn: Any, text: str, timeout: float) -> bool:
    try:
        await asyncio.wait_for(conn.send_text(text), timeout)
        return True
    except Exception:
        return False


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a copy of ``conns`` side by side; return those whose send failed."""
    snapshot = list(conns)
    text = json.dumps(frame)
    oks = await asyncio.gather(*(_send_one(conn, text, timeout) for conn in snapshot))
    return [conn for conn, ok in zip(snapshot, oks) if not ok]


@dataclass
class Room:
    name: str
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.owner: dict[Any, str] = {}

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(name)
        return self.rooms[name]

    async def _close(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), self.send_timeout)
        except Exception:
            pass

    async def announce(self, room: str, frame: dict[str, Any]) -> None:
        """Call with the room's lock held."""
        frames = [frame]
        while frames:
            failed = await broadcast(self.presence.connections(room), frames.pop(0),
                                     timeout=self.send_timeout)
            left = []
            for conn in failed:
                if self.presence.leave(room, self.owner[conn], conn):
                    left.append(self.owner[conn])
            for conn in failed:
                asyncio.ensure_future(self._close(conn))
            for user in left:
                await self.app.events.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    async def on_message(self, msg: dict[str, Any]) -> None:
        room = self.room(msg["room"])
        async with room.lock:
            room.seq += 1
            await self.announce(room.name, {"type": "message", "room": room.name,
                                            "user": msg["user"], "text": msg["text"],
                                            "seq": room.seq})

    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": why}))
            await ws.close(BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def reply(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await ws.send_text(json.dumps(frame))
        except Exception:
            pass

    async def enter(self, ws: WebSocket, name: str, user: str) -> bool:
        room = self.room(name)
        async with room.lock:
            users = sorted(set(self.presence.roster(name)) | {user})
            try:
                await ws.send_text(json.dumps({"type": "roster", "room": name, "users": users}))
            except Exception:
                return False
            self.owner[ws] = user
            if self.presence.join(name, user, ws):
                await self.app.events.emit("chat.joined", {"room": name, "user": user})
                await self.announce(name, {"type": "join", "room": name, "user": user})
        return True

    async def exit(self, ws: WebSocket, name: str, user: str) -> None:
        room = self.room(name)
        async with room.lock:
            if self.presence.leave(name, user, ws):
                await self.app.events.emit("chat.left", {"room": name, "user": user})
                await self.announce(name, {"type": "leave", "room": name, "user": user})
        self.owner.pop(ws, None)

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(name):
            return await self.refuse(ws, "room must be 1-32 characters of [A-Za-z0-9_.-]")
        if user is None or user in ("null", "undefined", "None"):
            return await self.refuse(ws, "user is missing")
        if not valid_name(user):
            return await self.refuse(ws, "user must be 1-32 characters of [A-Za-z0-9_.-]")
        if not await self.enter(ws, name, user):
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.reply(ws, {"type": "error", "code": "bad_frame",
                                          "message": str(exc)})
                    await self.app.events.emit("ws.error",
                                               {"room": name, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.reply(ws, {"type": "pong"})
                else:
                    await self.app.events.emit("room.message", {"room": name, "user": user,
                                                                "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await self.exit(ws, name, user)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.handle)
    return app
