"""Exercise 3: chat_broadcasting.

Object style: create_app builds a ChatServer (one per app) holding presence, seq
counters and per-room locks; each socket is wrapped in a Member (identity
equality) that knows its room and user. broadcast starts one task per member and
waits for them with asyncio.wait(timeout=...), cancelling (and awaiting) the ones
still pending. parse_frame uses structural pattern matching.
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
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return bool(NAME.fullmatch(value))


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:30])
    return f"a {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message, else ValueError."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("not JSON") from None
    except RecursionError:
        raise ValueError("not JSON (nested too deeply)") from None
    match data:
        case {"type": "ping"}:
            return {"type": "ping"}
        case {"type": "message", "text": str() as text} if 0 < len(text) <= MAX_TEXT:
            return {"type": "message", "text": text}
        case {"type": "message", "text": str() as text}:
            raise ValueError(f"text must be 1-{MAX_TEXT} characters, got {len(text)}")
        case {"type": "message", "text": other}:
            raise ValueError(f"text must be a string, not {_describe(other)}")
        case {"type": "message"}:
            raise ValueError("message without a text")
        case {"type": other}:
            raise ValueError(f"unknown type: {_describe(other)}")
        case dict():
            raise ValueError("missing type")
        case _:
            raise ValueError(f"not a JSON object but {_describe(data)}")


class Presence:
    """Who is in each room: room -> user -> that user's open connections (ordered)."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, dict[str, dict[Hashable, None]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms[room]
        new_user = user not in users
        users.setdefault(user, {})[conn] = None
        return new_user

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room, {})
        tabs = users.get(user, {})
        if conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del users[user]
        if not users:
            self._rooms.pop(room, None)
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        found: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            found.extend(tabs)
        return found


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    text = json.dumps(frame)
    snapshot = list(conns)
    if not snapshot:
        return []

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(send(conn)) for conn in snapshot]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    failed = []
    for conn, task in zip(snapshot, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


@dataclass(eq=False)
class Member:
    """One socket in one room: compared by identity, so each tab is its own member."""

    ws: WebSocket
    room: str
    user: str

    async def send_text(self, text: str) -> None:
        await self.ws.send_text(text)


@dataclass
class ChatServer:
    events: Any
    send_timeout: float
    presence: Presence = field(default_factory=Presence)
    seq: dict[str, int] = field(default_factory=dict)
    locks: defaultdict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock))

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        if failed:
            await self.drop(room, failed)

    async def drop(self, room: str, members: list[Member]) -> None:
        left = []
        for member in members:  # forget them all first
            if self.presence.leave(room, member.user, member):
                left.append(member.user)
        await asyncio.gather(*(self.close(member) for member in members))
        for user in left:
            await self.announce_leave(room, user)

    async def close(self, member: Member) -> None:
        try:
            await asyncio.wait_for(member.ws.close(1011), self.send_timeout)
        except Exception:
            pass

    async def announce_leave(self, room: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": room, "user": user})
        await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def enter(self, member: Member) -> bool:
        room, user = member.room, member.user
        async with self.locks[room]:
            arrived = self.presence.join(room, user, member)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            try:
                await member.send_text(json.dumps(roster))
            except Exception:
                self.presence.leave(room, user, member)
                return False
            if arrived:
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
        return True

    async def exit(self, member: Member) -> None:
        async with self.locks[member.room]:
            if self.presence.leave(member.room, member.user, member):
                await self.announce_leave(member.room, member.user)

    async def relay(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.locks[room]:
            self.seq[room] = number = self.seq.get(room, 0) + 1
            await self.send_room(room, {"type": "message", "room": room,
                                        "user": payload["user"], "text": payload["text"],
                                        "seq": number})


async def _tell(ws: WebSocket, frame: dict[str, Any]) -> bool:
    try:
        await ws.send_text(json.dumps(frame))
        return True
    except Exception:
        return False


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    server = ChatServer(day25.install(app), send_timeout)
    app.events.on("room.message", server.relay)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = [f"{what} must be 1-32 characters of [A-Za-z0-9_.-]"
                    for what, value in (("room", room), ("user", user)) if not valid_name(value)]
        if problems:
            await _tell(ws, {"type": "error", "code": "bad_request",
                             "message": "; ".join(problems)})
            try:
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        member = Member(ws, room, user)
        if not await server.enter(member):
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await server.events.emit("ws.error",
                                             {"room": room, "user": user, "error": str(exc)})
                    if not await _tell(ws, {"type": "error", "code": "bad_frame",
                                            "message": str(exc)}):
                        return
                    continue
                if command["type"] == "ping":
                    if not await _tell(ws, {"type": "pong"}):
                        return
                    continue
                await server.events.emit("room.message",
                                         {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            await server.exit(member)

    return app
