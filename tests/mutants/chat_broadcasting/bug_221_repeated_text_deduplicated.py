"""Breaks: "a listener broadcasts it to every connection in the room" with "seq": N, which
"counts the room's messages". The room.message listener drops a message whose (user,
text) equals the room's previous one, as a guard against a double emit. The first "ok"
is relayed; the same user sending "ok" again right after gets no broadcast and no seq.
"""

from __future__ import annotations

import asyncio
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


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError saying why."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed; send a JSON text frame")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        kind = "too deeply nested" if isinstance(exc, RecursionError) else "not valid JSON"
        raise ValueError(f"the frame is {kind}") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    if "type" not in data:
        raise ValueError("the frame has no 'type'")
    kind = data["type"]
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if isinstance(kind, str) and kind == "message":
        if "text" not in data:
            raise ValueError("a message needs a 'text'")
        text = data["text"]
        if not isinstance(text, str):
            raise ValueError(f"'text' must be a string, not {type(text).__name__}")
        if len(text) == 0:
            raise ValueError("'text' is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"'text' has {len(text)} characters, more than {MAX_TEXT}")
        return {"type": "message", "text": text}
    try:
        shown = repr(kind)
    except RecursionError:
        shown = f"<a deeply nested {type(kind).__name__}>"
    if len(shown) > 40:
        shown = shown[:37] + "..."
    raise ValueError(f"unknown type {shown}: use 'message' or 'ping'")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    Stored flat: (room, user) -> set of connections; a key exists only while its
    set is non-empty.
    """

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None:
            self._tabs[key] = {conn}
            return True
        tabs.add(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if not tabs or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self._tabs[key]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(user for (where, user) in self._tabs if where == room)

    def connections(self, room: str) -> list[Hashable]:
        found: list[Hashable] = []
        for (where, _user), tabs in self._tabs.items():
            if where == room:
                found.extend(tabs)
        return found


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def deliver(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(deliver(conn)) for conn in members]
    try:
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    if pending:
        await asyncio.wait(pending)  # let the cancelled sends end before returning
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


class _Room:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.seq = 0


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, _Room] = {}
        self.who: dict[WebSocket, str] = {}
        self.last_said: dict[str, tuple[str, str]] = {}  # room -> (user, text) of its last message
        self.events.on("room.message", self.on_message)

    def room(self, name: str) -> _Room:
        if name not in self.rooms:
            self.rooms[name] = _Room()
        return self.rooms[name]

    async def on_message(self, payload: dict[str, Any]) -> None:
        said = (payload["user"], payload["text"])
        if self.last_said.get(payload["room"]) == said:
            return  # the same room.message twice (a double emit): relay it once
        self.last_said[payload["room"]] = said
        await self.send_to_room(payload["room"], dict(payload, type="message"))

    async def send_to_room(self, name: str, frame: dict[str, Any]) -> None:
        room = self.room(name)
        async with room.lock:
            if frame["type"] == "message":
                room.seq += 1
                frame = {"type": "message", "room": frame["room"], "user": frame["user"],
                         "text": frame["text"], "seq": room.seq}
            failed = await broadcast(self.presence.connections(name), frame,
                                     timeout=self.send_timeout)
        if failed:
            await self.drop(name, failed)

    async def drop(self, name: str, failed: list[Any]) -> None:
        leaving = []
        for ws in failed:
            user = self.who.get(ws)
            if user is not None and self.presence.leave(name, user, ws):
                leaving.append(user)
        for user in leaving:
            await self.announce_leave(name, user)
        for ws in failed:
            try:
                await asyncio.wait_for(ws.close(1011), self.send_timeout)
            except Exception:
                pass  # already gone

    async def announce_leave(self, name: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": name, "user": user})
        await self.send_to_room(name, {"type": "leave", "room": name, "user": user})

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = []
        if not valid_name(name):
            problems.append("the room name")
        if not valid_name(user):
            problems.append("the user name (?user=)")
        if problems:
            await ws.send_text(json.dumps({
                "type": "error", "code": "bad_request",
                "message": " and ".join(problems) + " must be 1-32 characters of A-Za-z0-9_.-"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        self.who[ws] = user
        try:
            room = self.room(name)
            async with room.lock:
                arrived = self.presence.join(name, user, ws)
                roster = {"type": "roster", "room": name, "users": self.presence.roster(name)}
                await asyncio.wait_for(ws.send_text(json.dumps(roster)), self.send_timeout)
            if arrived:
                await self.events.emit("chat.joined", {"room": name, "user": user})
                await self.send_to_room(name, {"type": "join", "room": name, "user": user})
            await self.receive_loop(ws, name, user)
        except (WebSocketDisconnect, asyncio.TimeoutError):
            pass  # a normal leave (or a tab that never took its roster)
        finally:
            if self.presence.leave(name, user, ws):
                await self.announce_leave(name, user)
            self.who.pop(ws, None)

    async def receive_loop(self, ws: WebSocket, name: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await self.events.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_frame", "message": str(exc)}))
                continue
            if command["type"] == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
            else:
                await self.events.emit("room.message",
                                       {"room": name, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.serve)
    return app
