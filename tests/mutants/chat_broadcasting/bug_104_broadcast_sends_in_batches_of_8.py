"""Bug: broadcast lets at most 8 sends run at once (a semaphore), so with more than 8 stalled members the timeouts run in batches, one send_timeout per batch.

Breaks: "however many members stall at once, the room waits one `send_timeout` for them, not one per member" and "the whole broadcast takes about ``timeout`` at most, however many members stall" ... With 20 members that never take the frame and timeout=0.2, broadcast takes about 0.6 s (three batches), and a healthy member listed after them gets the frame only after 0.4 s.
"""

from __future__ import annotations

import asyncio
import json
import re
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
DROPPED_CLOSE = 1011
MAX_PARALLEL_SENDS = 8  # never open more sends than this at once


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return type(value) is str and NAME.fullmatch(value) is not None


def _bad(reason: str) -> ValueError:
    return ValueError(reason)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise _bad("binary frame: send JSON as text")
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        raise _bad("frame is not valid JSON") from None
    if type(frame) is not dict:
        raise _bad("frame must be a JSON object")
    kind = frame.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise _bad("type must be 'message' or 'ping', got " + repr(kind)[:40])
    text = frame.get("text")
    if type(text) is not str:
        raise _bad("text must be a string")
    if text == "":
        raise _bad("text is empty")
    if len(text) > MAX_TEXT:
        raise _bad(f"text has {len(text)} characters, the limit is {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.setdefault(room, {}).setdefault(user, set())
        arrived = len(tabs) == 0
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.get(room, {}).get(user, set())
        if conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        users = self.rooms[room]
        del users[user]
        if not users:
            del self.rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self.rooms.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members whose send failed."""
    targets = tuple(conns)
    payload = json.dumps(frame)
    gate = asyncio.Semaphore(MAX_PARALLEL_SENDS)

    async def send(conn: Any) -> None:
        async with gate:
            await asyncio.wait_for(conn.send_text(payload), timeout)

    outcomes = await asyncio.gather(*(send(conn) for conn in targets), return_exceptions=True)
    return [conn for conn, outcome in zip(targets, outcomes) if isinstance(outcome, BaseException)]


@dataclass(eq=False)
class Member:
    ws: WebSocket
    user: str

    async def send_text(self, text: str) -> None:
        await self.ws.send_text(text)

    async def close(self, code: int, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.ws.close(code=code), timeout)
        except Exception:
            pass


@dataclass
class Room:
    name: str
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room(name)
        return rooms[name]

    async def fan_out(room: Room, frame: dict[str, Any], targets: list[Member] | None = None) -> None:
        """Send under the room's lock; drop the failed together, then announce their leaves."""
        if targets is None:
            targets = presence.connections(room.name)
        failed = await broadcast(targets, frame, timeout=send_timeout)
        dropped: list[Member] = []
        while failed:
            departed = []
            for member in failed:
                dropped.append(member)
                if presence.leave(room.name, member.user, member):
                    departed.append(member.user)
            failed = []
            for user in departed:
                await bus.emit("chat.left", {"room": room.name, "user": user})
                more = await broadcast(presence.connections(room.name),
                                       {"type": "leave", "room": room.name, "user": user},
                                       timeout=send_timeout)
                for member in more:
                    dropped.append(member)
                    if presence.leave(room.name, member.user, member):
                        departed.append(member.user)
        for member in dropped:
            await member.close(DROPPED_CLOSE, send_timeout)

    async def on_room_message(payload: dict[str, Any]) -> None:
        room = room_of(payload["room"])
        async with room.lock:
            room.seq += 1
            await fan_out(room, {"type": "message", "room": room.name, "user": payload["user"],
                                 "text": payload["text"], "seq": room.seq})

    bus.on("room.message", on_room_message)

    async def to_sender(room: Room, member: Member, frame: dict[str, Any]) -> None:
        async with room.lock:
            if member in presence.connections(room.name):
                await fan_out(room, frame, [member])

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name, user = ws.path_params.get("room"), ws.query_params.get("user")
        problem = None if valid_name(name) else "room"
        problem = problem or (None if valid_name(user) else "user")
        if problem:
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"{problem} must be 1-32 characters of A-Z a-z 0-9 _ . -"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        room = room_of(name)
        me = Member(ws, user)
        try:
            async with room.lock:
                arrived = presence.join(name, user, me)
                if await broadcast([me], {"type": "roster", "room": name,
                                          "users": presence.roster(name)}, timeout=send_timeout):
                    presence.leave(name, user, me)
                    return
                if arrived:
                    await bus.emit("chat.joined", {"room": name, "user": user})
                    await fan_out(room, {"type": "join", "room": name, "user": user})
            while True:
                received = await ws.receive()
                if received["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(received)
                except ValueError as exc:
                    await to_sender(room, me, {"type": "error", "code": "bad_frame",
                                               "message": str(exc)})
                    await bus.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await to_sender(room, me, {"type": "pong"})
                else:
                    await bus.emit("room.message", {"room": name, "user": user,
                                                    "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with room.lock:
                if presence.leave(name, user, me):
                    await bus.emit("chat.left", {"room": name, "user": user})
                    await fan_out(room, {"type": "leave", "room": name, "user": user})

    app.ws_route("/chat/{room}")(chat)
    return app
