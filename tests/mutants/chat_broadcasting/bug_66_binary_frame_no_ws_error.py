"""Bug: binary frames are answered with a bad_frame error in their own branch of the receive loop, which forgets to emit ws.error.

Breaks: "For it: the sender gets `{"type": "error", "code": "bad_frame", ...}`; the app emits `ws.error` on `app.events` with `{"room": R, "user": U, "error": ...}`" (a malformed frame includes "**binary**: every binary frame").
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0
ALLOWED_TYPES = ("message", "ping")


def valid_name(value: object) -> bool:
    """True for a str of 1-32 characters of the 64 allowed ASCII characters."""
    if type(value) is not str:
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One ASGI receive message to a command, or ValueError saying what is wrong."""
    if message.get("text") is None:
        raise ValueError("binary frames are not allowed, send JSON text")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if not (isinstance(kind, str) and kind in ALLOWED_TYPES):
        raise ValueError("unknown type " + repr(kind)[:50])
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError("text must be a string, not " + type(text).__name__)
    if len(text) == 0:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text has {len(text)} characters, at most {MAX_TEXT} allowed")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.setdefault(room, {}).setdefault(user, set())
        first = len(tabs) == 0
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self.rooms[room][user]
        if not self.rooms[room]:
            del self.rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self.rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send one serialised frame to a snapshot of conns; return the failed members."""
    members = list(conns)
    if not members:
        return []
    payload = json.dumps(frame)
    tasks = {asyncio.ensure_future(m.send_text(payload)): m for m in members}
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    failed = []
    for task, member in tasks.items():
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(member)
    return failed


@dataclass
class Room:
    name: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


class ChatServer:
    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.who: dict[Any, str] = {}
        self.background: set[asyncio.Task] = set()

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(name)
        return self.rooms[name]

    async def _close(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), self.send_timeout)
        except BaseException:
            pass

    async def send_room(self, room: Room, frame: dict[str, Any]) -> None:
        """Broadcast to the room; the caller holds room.lock."""
        failed = await broadcast(self.presence.connections(room.name), frame,
                                 timeout=self.send_timeout)
        departed = [self.who[ws] for ws in failed
                    if ws in self.who and self.presence.leave(room.name, self.who[ws], ws)]
        for ws in failed:
            task = asyncio.ensure_future(self._close(ws))
            self.background.add(task)
            task.add_done_callback(self.background.discard)
        for user in departed:
            await self.announce_leave(room, user)

    async def announce_leave(self, room: Room, user: str) -> None:
        await self.events.emit("chat.left", {"room": room.name, "user": user})
        await self.send_room(room, {"type": "leave", "room": room.name, "user": user})

    async def on_room_message(self, payload: dict[str, Any]) -> None:
        room = self.room(payload["room"])
        async with room.lock:
            room.seq += 1
            await self.send_room(room, {
                "type": "message", "room": room.name, "user": payload["user"],
                "text": payload["text"], "seq": room.seq,
            })

    async def enter(self, ws: Any, room: Room, user: str) -> None:
        self.who[ws] = user
        async with room.lock:
            arrived = self.presence.join(room.name, user, ws)
            roster = {"type": "roster", "room": room.name,
                      "users": self.presence.roster(room.name)}
            await asyncio.wait_for(ws.send_text(json.dumps(roster)), self.send_timeout)
            if arrived:
                await self.events.emit("chat.joined", {"room": room.name, "user": user})
                await self.send_room(room, {"type": "join", "room": room.name, "user": user})

    async def exit(self, ws: Any, room: Room, user: str) -> None:
        async with room.lock:
            if self.presence.leave(room.name, user, ws):
                await self.announce_leave(room, user)
        self.who.pop(ws, None)

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room_name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = []
        if not valid_name(room_name):
            problems.append("room must be 1-32 characters of A-Z a-z 0-9 _ . -")
        if not valid_name(user):
            problems.append("user must be 1-32 characters of A-Z a-z 0-9 _ . -")
        if problems:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "; ".join(problems)}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        room = self.room(room_name)
        try:
            await self.enter(ws, room, user)
            await self.serve(ws, room, user)
        except WebSocketDisconnect:
            pass
        except Exception:
            pass
        finally:
            await self.exit(ws, room, user)

    async def serve(self, ws: Any, room: Room, user: str) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect":
                return
            if message.get("bytes") is not None:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                               "message": "send JSON as text frames"}))
                continue
            try:
                command = parse_frame(message)
            except ValueError as exc:
                reason = str(exc)
                await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                               "message": reason}))
                await self.events.emit("ws.error",
                                       {"room": room.name, "user": user, "error": reason})
                continue
            if command["type"] == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
                continue
            await self.events.emit("room.message",
                                   {"room": room.name, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with app.events and the /chat/{room} route served by a ChatServer."""
    app = NexiosApp()
    events = day25.install(app)
    server = ChatServer(events, send_timeout)
    events.on("room.message", server.on_room_message)
    app.ws_route("/chat/{room}")(server.handle)
    return app
