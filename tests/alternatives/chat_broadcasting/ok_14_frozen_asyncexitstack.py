"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): chat_broadcasting with frozen dataclasses (validated in ``__post_init__``), a descriptor
for names, an async context manager for membership, ``contextlib.AsyncExitStack`` in the
route and an ``itertools.count`` per room for ``seq``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
from collections import ChainMap, defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return type(value) is str and NAME.fullmatch(value) is not None


class Name:
    """A descriptor that refuses anything but a valid room or user name."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.slot = f"_{name}"

    def __get__(self, obj: Any, objtype: type | None = None) -> Any:
        return self if obj is None else getattr(obj, self.slot)

    def __set__(self, obj: Any, value: object) -> None:
        if not valid_name(value):
            raise ValueError(f"{self.name} must be 1-32 characters of [A-Za-z0-9_.-]")
        setattr(obj, self.slot, value)


class Where:
    """Room and user of one connection, both checked by the ``Name`` descriptor."""

    room = Name()
    user = Name()

    def __init__(self, room: object, user: object) -> None:
        self.room = room
        self.user = user


@dataclass(frozen=True)
class Command:
    type: str
    text: str | None = None
    KINDS: ClassVar[tuple[str, ...]] = ("message", "ping")

    def __post_init__(self) -> None:
        if self.type == "message":
            if not isinstance(self.text, str) or not self.text:
                raise ValueError("'text' must be a non-empty string")
            if len(self.text) > MAX_TEXT:
                raise ValueError(f"'text' is longer than {MAX_TEXT} characters")
        else:
            object.__setattr__(self, "text", None)  # a ping carries no text

    def as_dict(self) -> dict[str, Any]:
        return {"type": "ping"} if self.type == "ping" else {"type": "message", "text": self.text}


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object")
    kind = data.get("type")
    if not any(isinstance(kind, str) and kind == k for k in Command.KINDS):
        raise ValueError(f"unknown frame type {kind!r:.40}")
    return Command(kind, data.get("text")).as_dict()


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.setdefault(room, {}).setdefault(user, set())
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.get(room, {}).get(user)
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self.rooms[room][user]
        if not self.rooms[room]:
            del self.rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return list(itertools.chain.from_iterable(self.rooms.get(room, {}).values()))


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def ok(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return False
        return True

    results = await asyncio.gather(*map(ok, members))
    return list(itertools.compress(members, (not r for r in results)))


@dataclass
class Room:
    name: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: itertools.count = field(default_factory=lambda: itertools.count(1))


class Membership:
    """``async with Membership(...)``: joined on enter, forgotten (and the leave announced) on exit."""

    def __init__(self, chat: Chat, room: str, user: str, ws: WebSocket) -> None:
        self.chat, self.room, self.user, self.ws = chat, room, user, ws

    async def __aenter__(self) -> Membership:
        self.chat.user_of[self.ws] = self.user
        return self

    async def __aexit__(self, *exc: object) -> bool:
        try:
            if (gone := self.chat.forget(self.room, self.ws)) is not None:
                await self.chat.announce_leave(self.room, gone)
        finally:
            self.chat.user_of.pop(self.ws, None)
        return False


class Chat:
    DEFAULTS: ClassVar[dict[str, Any]] = {"send_timeout": SEND_TIMEOUT}

    def __init__(self, events: Any, **options: Any) -> None:
        settings = ChainMap(options, self.DEFAULTS)
        self.send_timeout: float = settings["send_timeout"]
        self.events = events
        self.presence = Presence()
        self.user_of: dict[WebSocket, str] = {}
        self.rooms: defaultdict[str, Room] = defaultdict(lambda: Room(""))

    def room(self, name: str) -> Room:
        room = self.rooms[name]
        if not room.name:
            room.name = name
        return room

    def forget(self, room: str, ws: WebSocket) -> str | None:
        user = self.user_of.get(ws)
        return user if user is not None and self.presence.leave(room, user, ws) else None

    async def announce_leave(self, room: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": room, "user": user})
        await self.publish(room, {"type": "leave", "room": room, "user": user})

    async def publish(self, name: str, frame: dict[str, Any]) -> None:
        room = self.room(name)
        async with room.lock:
            if frame["type"] == "message":
                frame["seq"] = next(room.seq)
            dead = await broadcast(self.presence.connections(name), frame,
                                   timeout=self.send_timeout)
        gone = [u for ws in dead if (u := self.forget(name, ws)) is not None]
        for user in gone:
            await self.announce_leave(name, user)
        await asyncio.gather(*(self.drop(ws) for ws in dead))

    async def drop(self, ws: WebSocket) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(1011), self.send_timeout)

    async def relay(self, payload: dict[str, str]) -> None:
        await self.publish(payload["room"], {"type": "message", **payload})

    async def __call__(self, ws: WebSocket) -> None:
        await ws.accept()
        try:
            where = Where(ws.path_params.get("room"), ws.query_params.get("user"))
        except ValueError as exc:
            await ws.send_json({"type": "error", "code": "bad_request", "message": str(exc)})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        room, user = where.room, where.user
        async with contextlib.AsyncExitStack() as stack:
            stack.enter_context(contextlib.suppress(WebSocketDisconnect))
            await stack.enter_async_context(Membership(self, room, user, ws))
            async with self.room(room).lock:
                arrived = self.presence.join(room, user, ws)
                await asyncio.wait_for(ws.send_json(
                    {"type": "roster", "room": room, "users": self.presence.roster(room)}),
                    self.send_timeout)
            if arrived:
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.publish(room, {"type": "join", "room": room, "user": user})
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.events.emit("ws.error", {"room": room, "user": user,
                                                        "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await self.events.emit("room.message", {"room": room, "user": user,
                                                            "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    chat = Chat(day25.install(app), send_timeout=send_timeout)
    chat.events.on("room.message", chat.relay)

    @app.ws_route("/chat/{room}")
    async def route(ws: WebSocket) -> None:
        await chat(ws)

    return app
