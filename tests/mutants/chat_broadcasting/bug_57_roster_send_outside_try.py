"""Bug: joining presence and sending the roster happen before the try/finally, so a tab that is gone before its roster is sent raises out of the handler and is never removed from presence (a ghost user stays in the roster, with no leave).

Breaks: "A tab can be gone before its roster is sent: that send then raises `WebSocketDisconnect` too." together with "let no exception escape your handler" and "A connection that dies ... leaves like one that closed."
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII ones."""
    if type(value) is not str:
        return False
    return NAME.fullmatch(value) is not None


def _short(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else shown[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message into a ping or message command, else ValueError."""
    raw = message.get("text") if isinstance(message, dict) else None
    if raw is None or not isinstance(raw, str):
        raise ValueError("binary frames are not allowed, send JSON text")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("frame is nested too deeply to be read as JSON") from None
    except ValueError:
        raise ValueError("frame is not valid JSON") from None
    if type(data) is not dict:
        raise ValueError("frame must be a JSON object")
    if "type" not in data:
        raise ValueError("frame has no type")
    kind = data["type"]
    if type(kind) is not str or kind not in {"ping", "message"}:
        raise ValueError(f"unknown frame type {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("message has no text")
    text = data["text"]
    if type(text) is not str:
        raise ValueError("text must be a string")
    if len(text) == 0:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        first = len(tabs) == 0
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None:
            return False
        tabs = users.get(user)
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        users = self._rooms.get(room)
        return sorted(users) if users else []

    def connections(self, room: str) -> list[Hashable]:
        users = self._rooms.get(room)
        if not users:
            return []
        out: list[Hashable] = []
        for tabs in users.values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send frame to a snapshot of conns side by side; return the members that failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = {asyncio.ensure_future(m.send_text(text)): m for m in members}
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


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.bus = day25.install(app)
        self.timeout = send_timeout
        self.presence = Presence()
        self.locks: dict[str, asyncio.Lock] = {}
        self.seq: dict[str, int] = {}
        self.who: dict[Any, tuple[str, str]] = {}
        self.bus.on("room.message", self.on_room_message)

    def lock(self, room: str) -> asyncio.Lock:
        if room not in self.locks:
            self.locks[room] = asyncio.Lock()
        return self.locks[room]

    async def _close(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), self.timeout)
        except Exception:  # noqa: BLE001 - already gone, or closing stalled too
            pass

    async def send_to_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast with drops; the room's lock must be held."""
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.timeout)
        while failed:
            departed = []
            for ws in failed:
                _, user = self.who.get(ws, (room, None))
                if user is not None and self.presence.leave(room, user, ws):
                    departed.append(user)
            for ws in failed:
                await self._close(ws)
            failed = []
            for user in departed:
                await self.bus.emit("chat.left", {"room": room, "user": user})
                more = await broadcast(
                    self.presence.connections(room),
                    {"type": "leave", "room": room, "user": user},
                    timeout=self.timeout)
                failed.extend(m for m in more if m not in failed)

    async def on_room_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            number = self.seq.get(room, 0) + 1
            self.seq[room] = number
            await self.send_to_room(room, {
                "type": "message", "room": room, "user": payload["user"],
                "text": payload["text"], "seq": number})

    async def refuse(self, ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": why}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:  # noqa: BLE001 - the client may already be gone
            pass

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            await self.refuse(ws, "room must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if not valid_name(user):
            await self.refuse(ws, "user must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        self.who[ws] = (room, user)
        async with self.lock(room):
            arrived = self.presence.join(room, user, ws)
            await ws.send_text(json.dumps(
                {"type": "roster", "room": room, "users": self.presence.roster(room)}))
            if arrived:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.send_to_room(room, {"type": "join", "room": room, "user": user})
        try:
            await self.loop(ws, room, user)
        except WebSocketDisconnect:
            pass
        except Exception:  # noqa: BLE001 - a dead socket is a leave, never a crash
            pass
        finally:
            async with self.lock(room):
                if self.presence.leave(room, user, ws):
                    await self.bus.emit("chat.left", {"room": room, "user": user})
                    await self.send_to_room(room, {"type": "leave", "room": room, "user": user})
            self.who.pop(ws, None)

    async def loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                reason = str(exc)
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_frame", "message": reason}))
                await self.bus.emit("ws.error", {"room": room, "user": user, "error": reason})
                continue
            if command["type"] == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
            else:
                await self.bus.emit(
                    "room.message", {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    server = ChatServer(app, send_timeout)
    app.ws_route("/chat/{room}")(server.handle)
    return app
