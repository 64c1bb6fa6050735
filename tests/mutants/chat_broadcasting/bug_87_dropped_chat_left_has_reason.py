"""Bug: when a broadcast drops a member, chat.left is emitted with an extra reason field ("dropped"), so its payload is not the one of the event table.

Breaks: the events table row "`chat.left` | `{"room": R, "user": U}` (user 1 -> 0 connections)", and "it leaves as if it had closed (a `leave` frame and `chat.left` if it was the user's last tab)".
"""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0
ALLOWED = frozenset(string.ascii_letters + string.digits + "_.-")


def valid_name(value: object) -> bool:
    """A str of 1 to 32 characters, each one of the 64 allowed."""
    if type(value) is not str:
        return False
    return 1 <= len(value) <= 32 and all(ch in ALLOWED for ch in value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Ping or message command from one ASGI message; ValueError for anything malformed."""
    if message.get("text") is None:
        raise ValueError("binary frame")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if type(data) is not dict:
        raise ValueError(f"not a JSON object but a {type(data).__name__}")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError("missing or unknown type")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if len(text) == 0 or len(text) > MAX_TEXT:
        raise ValueError(f"text must have 1 to {MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> set of open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.setdefault(room, {})
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        conns = self.rooms.get(room, {}).get(user)
        if conns is None or conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        del self.rooms[room][user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for conns in self.rooms.get(room, {}).values():
            out.extend(conns)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send to a snapshot, side by side, one shared deadline; return the failed members."""
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


@dataclass
class Room:
    name: str
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """The chat app: route, listener, presence and rooms all local to this call."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    who: dict[Any, str] = {}

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room(name)
        return rooms[name]

    async def tell(ws: Any, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)

    async def publish(room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        gone = [who[ws] for ws in failed
                if ws in who and presence.leave(room, who[ws], ws)]
        for ws in failed:
            try:
                await asyncio.wait_for(ws.close(code=1011), send_timeout)
            except BaseException:
                pass
        for user in gone:
            await publish(room, {"type": "leave", "room": room, "user": user})
            await events.emit("chat.left", {"room": room, "user": user, "reason": "dropped"})

    async def on_room_message(payload: dict[str, Any]) -> None:
        r = room_of(payload["room"])
        async with r.lock:
            r.seq += 1
            await publish(r.name, {"type": "message", "room": r.name,
                                   "user": payload["user"], "text": payload["text"],
                                   "seq": r.seq})

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = [f"invalid {k}" for k, v in (("room", room), ("user", user))
                    if not valid_name(v)]
        if problems:
            try:
                await tell(ws, {"type": "error", "code": "bad_request",
                                "message": ", ".join(problems)})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except BaseException:
                pass
            return
        r = room_of(room)
        who[ws] = user
        try:
            async with r.lock:
                arrived = presence.join(room, user, ws)
                try:
                    await tell(ws, {"type": "roster", "room": room,
                                    "users": presence.roster(room)})
                except BaseException:
                    presence.leave(room, user, ws)
                    raise WebSocketDisconnect()
                if arrived:
                    await publish(room, {"type": "join", "room": room, "user": user})
                    await events.emit("chat.joined", {"room": room, "user": user})
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                try:
                    cmd = parse_frame(msg)
                except ValueError as exc:
                    await tell(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if cmd["type"] == "ping":
                    await tell(ws, {"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": cmd["text"]})
        except (WebSocketDisconnect, Exception):
            pass
        finally:
            async with r.lock:
                if presence.leave(room, user, ws):
                    await publish(room, {"type": "leave", "room": room, "user": user})
                    await events.emit("chat.left", {"room": room, "user": user})
            who.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    events.on("room.message", on_room_message)
    return app
