"""Exercise 3: chat_broadcasting.

Class-based: one ChatService object per create_app() owns everything the app
remembers (presence, which user a socket belongs to, a seq counter and a lock
per room), so two apps share nothing. Names are checked against a frozenset of
the 65 allowed characters, frames are read with a match statement, and the
broadcast starts one task per member and waits for all of them under a single
deadline (every send starts at once, so that is each send's own timeout),
cancelling and awaiting the stragglers before it returns. Every room operation
that sends (roster, join, message, leave) runs under the room's lock, and a
broadcast's failed members are all forgotten before any of their leaves is
announced; announcing may drop more members, handled the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import reprlib
import string
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
DROPPED_CLOSE = 1011
SEND_TIMEOUT = 2.0

ALLOWED = frozenset(string.ascii_letters + string.digits + "_.-")
_quote = reprlib.Repr()
_quote.maxstring = _quote.maxother = 30
GONE = (WebSocketDisconnect, RuntimeError, OSError)  # a socket that can no longer be sent to


def valid_name(value: object) -> bool:
    """A str of 1-32 characters, each one of ``[A-Za-z0-9_.-]``; anything else is False."""
    if not isinstance(value, str) or not 1 <= len(value) <= 32:
        return False
    return all(ch in ALLOWED for ch in value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One ASGI receive message -> a ping or a message command, else ValueError."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frame: send JSON as a text frame")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but a {type(data).__name__}")
    match data:
        case {"type": str("ping")}:
            return {"type": "ping"}
        case {"type": str("message"), "text": str(body)} if 0 < len(body) <= MAX_TEXT:
            return {"type": "message", "text": body}
        case {"type": str("message"), "text": str(body)}:
            raise ValueError("empty text" if not body else f"text over {MAX_TEXT} characters")
        case {"type": str("message"), "text": other}:
            raise ValueError(f"text is a {type(other).__name__}, not a string")
        case {"type": str("message")}:
            raise ValueError("a message needs a text")
        case {"type": other}:
            raise ValueError(f"unknown type {_quote.repr(other)}")
        case _:
            raise ValueError("missing type")


class Presence:
    """room -> user -> that user's open connections (a dict used as an ordered set)."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, defaultdict[str, dict[Hashable, None]]] = defaultdict(
            lambda: defaultdict(dict))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        tabs[conn] = None
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        tabs = users.get(user) if users is not None else None
        if not tabs or conn not in tabs:
            return False
        del tabs[conn]
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
        return list(itertools.chain.from_iterable(users.values())) if users else []


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the failed members."""
    text = json.dumps(frame)
    members = list(conns)
    if not members:
        return []

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(send(conn)) for conn in members]
    try:
        _, late = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    if late:
        await asyncio.wait(late)  # ended before we return, not left running
    return [conn for conn, task in zip(members, tasks)
            if task in late or task.cancelled() or task.exception() is not None]


class ChatService:
    """Everything one app remembers, and what its route and listener do."""

    def __init__(self, bus: Any, send_timeout: float) -> None:
        self.bus = bus
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.owner: dict[Any, str] = {}
        self.counters: dict[str, itertools.count[int]] = {}
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.closing: set[asyncio.Task[None]] = set()

    # -- the room, under its lock --------------------------------------------
    async def publish(self, room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        if failed:
            await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        departed = []
        for conn in failed:  # forget them all first
            user = self.owner.pop(conn, None)
            if user is not None and self.presence.leave(room, user, conn):
                departed.append(user)
        for conn in failed:
            task = asyncio.ensure_future(self.close_dropped(conn))
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)
        for user in departed:
            await self.announce_leave(room, user)

    async def announce_leave(self, room: str, user: str) -> None:
        await self.bus.emit("chat.left", {"room": room, "user": user})
        await self.publish(room, {"type": "leave", "room": room, "user": user})

    async def close_dropped(self, ws: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(DROPPED_CLOSE), self.send_timeout)

    # -- the listener ---------------------------------------------------------
    async def on_message(self, event: dict[str, Any]) -> None:
        room = event["room"]
        async with self.locks[room]:
            seq = next(self.counters.setdefault(room, itertools.count(1)))
            await self.publish(room, {"type": "message", "room": room, "user": event["user"],
                                      "text": event["text"], "seq": seq})

    # -- the route -------------------------------------------------------------
    @staticmethod
    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
        except GONE:
            return False
        return True

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        for what, value in (("room", room), ("user", user)):
            if not valid_name(value):
                message = (f"{what} is missing" if value is None else
                           f"{what} must be 1-32 characters of [A-Za-z0-9_.-]")
                if await self.send(ws, {"type": "error", "code": "bad_request",
                                        "message": message}):
                    with contextlib.suppress(*GONE):
                        await ws.close(BAD_REQUEST_CLOSE)
                return
        if not await self.enter(ws, room, user):
            return
        try:
            await self.listen(ws, room, user)
        except WebSocketDisconnect:
            pass
        finally:
            async with self.locks[room]:
                self.owner.pop(ws, None)
                if self.presence.leave(room, user, ws):
                    await self.announce_leave(room, user)

    async def enter(self, ws: WebSocket, room: str, user: str) -> bool:
        async with self.locks[room]:
            arrived = self.presence.join(room, user, ws)
            self.owner[ws] = user
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if not await self.send(ws, roster):
                self.owner.pop(ws, None)
                self.presence.leave(room, user, ws)
                return False
            if arrived:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.publish(room, {"type": "join", "room": room, "user": user})
        return True

    async def listen(self, ws: WebSocket, room: str, user: str) -> None:
        while (message := await ws.receive())["type"] != "websocket.disconnect":
            try:
                command = parse_frame(message)
            except ValueError as exc:
                if not await self.send(ws, {"type": "error", "code": "bad_frame",
                                            "message": str(exc)}):
                    return
                await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                if not await self.send(ws, {"type": "pong"}):
                    return
            else:
                await self.bus.emit("room.message",
                                    {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    service = ChatService(bus, send_timeout)
    bus.on("room.message", service.on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await service.serve(ws)

    return app
