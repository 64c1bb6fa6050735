"""Style: object model without locks or gather: each `Room` (kept for the server's lifetime) orders its work with a turnstile of chained futures, frames are frozen dataclasses turned into dicts with `asdict`, frame kinds are an `Enum`, a `Connection` yields its parsed commands from an async generator, and the broadcast counts finished sends with done-callbacks and an `asyncio.Event`, waiting at most `timeout` for it before cancelling the rest.

Follows: "`valid_name`: a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (`fullmatch` on a str only); "`parse_frame` ... `{"type": "ping"}` or `{"type": "message", "text": T}`, else `ValueError` ... and never any other exception" (binary, `ValueError` and `RecursionError` from `json.loads`, non-object, a `type` looked up only once it is a `str`, `text` a `str` of 1-2000 by `len`, other fields ignored); Presence "`join` True on 0 -> 1, `leave` True on 1 -> 0 (and harmless twice) ... one joined in two rooms is in each" (room -> user -> ordered connections, nothing shared between rooms); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame"; "The new connection's first frame is the roster" with sorted unique users, then "the joiner's too, after its roster" join only on 0 -> 1, leave on 1 -> 0 "to everyone still there", none for a second tab; "`N` is a per-room counter starting at 1 ... does **not** restart when the room empties" (the Room object and its seq are never thrown away) and "Every member sees a room's frames in the same order" (one turn at a time per room); "members dropped by one broadcast leave **together**: forget every one of them before announcing any of their leaves", closed with 1011 if possible, "a dropped or closed member's later clean-up must not announce the leave twice" (presence decides); a malformed frame: `bad_frame` to the sender only, `ws.error`, "the connection **stays open**"; "A normal disconnect ... is a leave, **not** an error"; a tab gone before its roster leaves presence unannounced; `bad_request` and close 4400 after `await ws.accept()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Hashable, Iterable
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


class Kind(Enum):
    PING = "ping"
    MESSAGE = "message"


KINDS = {kind.value: kind for kind in Kind}


@dataclass(frozen=True)
class Roster:
    room: str
    users: list[str]
    type: str = "roster"


@dataclass(frozen=True)
class Announcement:
    type: str  # "join" or "leave"
    room: str
    user: str


@dataclass(frozen=True)
class Said:
    room: str
    user: str
    text: str
    seq: int
    type: str = "message"


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if isinstance(value, str):
        return NAME.fullmatch(value) is not None
    return False


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: frames are JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {type(data).__name__}")
    if "type" not in data:
        raise ValueError("no type")
    value = data["type"]
    kind = KINDS.get(value) if isinstance(value, str) else None
    if kind is None:
        raise ValueError(f"unknown type {repr(value)[:40]}")
    if kind is Kind.PING:
        return {"type": Kind.PING.value}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text missing or not a string")
    if text == "":
        raise ValueError("empty text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text over {MAX_TEXT} characters")
    return {"type": Kind.MESSAGE.value, "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._rooms.get(room)
        if users is None:
            users = self._rooms[room] = {}
        if user not in users:
            users[user] = {conn: None}
            return True
        users[user][conn] = None
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        try:
            tabs = self._rooms[room][user]
            del tabs[conn]
        except KeyError:
            return False
        if tabs:
            return False
        users = self._rooms[room]
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        out: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            out += tabs
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    if not members:
        return []
    all_done = asyncio.Event()
    left = len(members)

    def finished(_: asyncio.Future[Any]) -> None:
        nonlocal left
        left -= 1
        if left == 0:
            all_done.set()

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    tasks = []
    for conn in members:
        task = asyncio.ensure_future(send(conn))
        task.add_done_callback(finished)
        tasks.append(task)
    try:
        await asyncio.wait_for(all_done.wait(), timeout)
    except TimeoutError:
        pass
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    while left:  # let every cancelled send unwind
        await all_done.wait()
    return [conn for conn, task in zip(members, tasks)
            if task.cancelled() or task.exception() is not None]


class Turnstile:
    """One turn at a time, first come first served: each turn waits for the one before."""

    def __init__(self) -> None:
        self._last: asyncio.Future[None] | None = None

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        before = self._last
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._last = mine

        def release(_: object = None) -> None:
            if not mine.done():
                mine.set_result(None)

        try:
            if before is not None and not before.done():
                await asyncio.shield(before)
            yield
        finally:
            if before is None or before.done():
                release()
            else:  # cancelled while waiting: our turn ends when the one before ends
                before.add_done_callback(release)


class Room:
    """One room, for the whole life of the server: its seq and its turnstile."""

    def __init__(self, chat: Chat, name: str) -> None:
        self.chat = chat
        self.name = name
        self.seq = 0
        self.turnstile = Turnstile()

    async def deliver(self, frame: Any) -> None:
        """During a turn: send to all; drop every failed member, then announce each leave."""
        chat = self.chat
        pending = [asdict(frame)]
        while pending:
            failed = await broadcast(chat.presence.connections(self.name), pending.pop(0),
                                     timeout=chat.send_timeout)
            gone = [c.user for c in map(chat.connections.get, failed)
                    if c is not None and c.forget()]
            for ws in failed:
                chat.hang_up(ws)
            for user in gone:
                await chat.bus.emit("chat.left", {"room": self.name, "user": user})
                pending.append(asdict(Announcement("leave", self.name, user)))

    async def said(self, user: str, text: str) -> None:
        async with self.turnstile.turn():
            self.seq += 1
            await self.deliver(Said(self.name, user, text, self.seq))


class Connection:
    def __init__(self, chat: Chat, ws: WebSocket, room: Room, user: str) -> None:
        self.chat, self.ws, self.room, self.user = chat, ws, room, user
        self.dropped = False

    def forget(self) -> bool:
        """Out of presence; True if that was the user's last tab (False the second time)."""
        self.dropped = True
        return self.chat.presence.leave(self.room.name, self.user, self.ws)

    async def send(self, frame: dict[str, Any]) -> bool:
        if await broadcast([self.ws], frame, timeout=self.chat.send_timeout):
            self.dropped = True
            self.chat.hang_up(self.ws)
            return False
        return True

    async def enter(self) -> bool:
        room = self.room
        async with room.turnstile.turn():
            first = self.chat.presence.join(room.name, self.user, self.ws)
            roster = Roster(room.name, self.chat.presence.roster(room.name))
            if not await self.send(asdict(roster)):
                self.chat.presence.leave(room.name, self.user, self.ws)
                return False
            if first:
                await self.chat.bus.emit("chat.joined", {"room": room.name, "user": self.user})
                await room.deliver(Announcement("join", room.name, self.user))
        return True

    async def exit(self) -> None:
        room = self.room
        async with room.turnstile.turn():
            if self.forget():
                await self.chat.bus.emit("chat.left", {"room": room.name, "user": self.user})
                await room.deliver(Announcement("leave", room.name, self.user))

    async def commands(self) -> AsyncIterator[dict[str, Any] | ValueError]:
        """Each frame parsed, or its ValueError; ends at a disconnect or a drop."""
        while not self.dropped:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect" or self.dropped:
                return
            try:
                command: dict[str, Any] | ValueError = parse_frame(message)
            except ValueError as exc:
                command = exc
            yield command


class Chat:
    def __init__(self, bus: Any, send_timeout: float) -> None:
        self.bus = bus
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.connections: dict[Any, Connection] = {}
        self.closing: set[asyncio.Task[None]] = set()
        bus.on("room.message", self.on_room_message)

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(self, name)
        return self.rooms[name]

    async def on_room_message(self, payload: dict[str, Any]) -> None:
        await self.room(payload["room"]).said(payload["user"], payload["text"])

    def hang_up(self, ws: Any) -> None:
        async def close() -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1011), self.send_timeout)

        task = asyncio.ensure_future(close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        room_name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room_name) and valid_name(user)):
            field = "room" if not valid_name(room_name) else "user"
            with contextlib.suppress(Exception):
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"{field} is missing or invalid"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            return
        conn = Connection(self, ws, self.room(room_name), user)
        self.connections[ws] = conn
        try:
            if await conn.enter():
                await self.talk(conn)
        except WebSocketDisconnect:
            pass
        finally:
            del self.connections[ws]
            await conn.exit()

    async def talk(self, conn: Connection) -> None:
        room, user = conn.room.name, conn.user
        async for command in conn.commands():
            if isinstance(command, ValueError):
                await conn.send({"type": "error", "code": "bad_frame", "message": str(command)})
                await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(command)})
            elif command["type"] == Kind.PING.value:
                await conn.send({"type": "pong"})
            else:
                await self.bus.emit("room.message", {"room": room, "user": user,
                                                     "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    chat = Chat(day25.install(app), send_timeout)
    app.ws_route("/chat/{room}")(chat.endpoint)
    return app
