"""Style: every socket is wrapped in a Member object (identity-hashed, carrying its room and user) whose send_text returns the socket's coroutine; Room objects own their lock and seq; broadcast runs its sends in an asyncio.TaskGroup, each guarded by its own asyncio.wait_for; frames are dispatched through a handler table.

Follows: "a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`; any other value ... is `False`, never an exception" (type check, then len and a set of the 64 characters); "one received frame -> `{"type": "ping"}` or `{"type": "message", "text": T}`, else `ValueError("<what is wrong>")`, and never any other exception" (binary, json.loads ValueError/RecursionError, object, exact str type, text 1-2000 by len, repr quoted and cut); "`join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on 1 -> 0 (and harmless twice), `roster(room)`, `connections(room)`" (Counter of tabs per room and user plus their sets); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled" (list copy, one json.dumps, a TaskGroup of guarded sends); "Always `await ws.accept()` first" and 4400; "The new connection's first frame is the roster" then the join to every connection (the joiner's too) under the room's lock; "`N` is a per-room counter starting at 1 ... does **not** restart when the room empties"; "members dropped by one broadcast leave **together**" and "the server closes it (code 1011, if it still can" (closed in the background with its own timeout); "the sender gets `bad_frame` ... the connection **stays open**"; "A normal disconnect ... is a leave, **not** an error".
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

_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return 1 <= len(value) <= 32 and all(ch in _NAME_CHARS for ch in value)


def _quote(value: Any) -> str:
    return repr(value)[:40]


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command dict, else ValueError."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if type(kind) is not str or kind not in {"ping", "message"}:
        raise ValueError(f"unknown type {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("missing text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text is not a string: {_quote(text)}")
    if text == "":
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.get(room, {}).get(user)
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        users = self._rooms[room]
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            out += tabs
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a copy of ``conns`` side by side; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    failed: set[int] = set()

    async def guarded(i: int, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            failed.add(i)

    async with asyncio.TaskGroup() as group:
        for i, conn in enumerate(members):
            group.create_task(guarded(i, conn))
    return [conn for i, conn in enumerate(members) if i in failed]


@dataclass(eq=False)
class Member:
    """One open socket in one room; hashed and compared by identity."""

    ws: WebSocket
    room: str
    user: str

    def send_text(self, text: str) -> Any:
        return self.ws.send_text(text)


@dataclass
class Room:
    name: str
    last_seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Chat:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.handlers = {"ping": self.on_ping, "message": self.on_text}

    def room(self, name: str) -> Room:
        return self.rooms.setdefault(name, Room(name))

    async def send_to_room(self, room: Room, frame: dict[str, Any]) -> None:
        """With ``room.lock`` held: broadcast, then drop every failed member together."""
        todo = [frame]
        while todo:
            failed: list[Member] = await broadcast(
                self.presence.connections(room.name), todo.pop(0), timeout=self.timeout)
            left = [m.user for m in failed if self.presence.leave(room.name, m.user, m)]
            for member in failed:
                asyncio.ensure_future(self.hang_up(member))
            for user in left:
                await self.app.events.emit("chat.left", {"room": room.name, "user": user})
                todo.append({"type": "leave", "room": room.name, "user": user})

    async def hang_up(self, member: Member) -> None:
        try:
            await asyncio.wait_for(member.ws.close(1011), self.timeout)
        except Exception:
            pass

    async def deliver(self, msg: dict[str, Any]) -> None:
        room = self.room(msg["room"])
        async with room.lock:
            room.last_seq += 1
            await self.send_to_room(room, {"type": "message", "room": room.name,
                                           "user": msg["user"], "text": msg["text"],
                                           "seq": room.last_seq})

    @staticmethod
    async def send(member: Member, frame: dict[str, Any]) -> bool:
        try:
            await member.send_text(json.dumps(frame))
        except Exception:
            return False
        return True

    async def on_ping(self, member: Member, command: dict[str, Any]) -> None:
        await self.send(member, {"type": "pong"})

    async def on_text(self, member: Member, command: dict[str, Any]) -> None:
        await self.app.events.emit("room.message", {"room": member.room, "user": member.user,
                                                    "text": command["text"]})

    async def on_bad(self, member: Member, problem: str) -> None:
        await self.send(member, {"type": "error", "code": "bad_frame", "message": problem})
        await self.app.events.emit("ws.error", {"room": member.room, "user": member.user,
                                                "error": problem})

    async def arrive(self, member: Member) -> bool:
        room = self.room(member.room)
        async with room.lock:
            users = sorted(set(self.presence.roster(room.name)).union([member.user]))
            if not await self.send(member, {"type": "roster", "room": room.name,
                                            "users": users}):
                return False
            if self.presence.join(room.name, member.user, member):
                await self.app.events.emit("chat.joined",
                                           {"room": room.name, "user": member.user})
                await self.send_to_room(room, {"type": "join", "room": room.name,
                                               "user": member.user})
        return True

    async def depart(self, member: Member) -> None:
        room = self.room(member.room)
        async with room.lock:
            if self.presence.leave(room.name, member.user, member):
                await self.app.events.emit("chat.left",
                                           {"room": room.name, "user": member.user})
                await self.send_to_room(room, {"type": "leave", "room": room.name,
                                               "user": member.user})

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        for value, what in ((room, "room"), (user, "user")):
            if not valid_name(value):
                problem = f"{what} is missing" if value is None else (
                    f"{what} must be 1-32 characters of [A-Za-z0-9_.-]")
                try:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                                   "message": problem}))
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        member = Member(ws, room, user)
        if not await self.arrive(member):
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.on_bad(member, str(exc))
                    continue
                await self.handlers[command["type"]](member, command)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await self.depart(member)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    chat = Chat(app, send_timeout)
    app.events.on("room.message", chat.deliver)
    app.ws_route("/chat/{room}")(chat.endpoint)
    return app
