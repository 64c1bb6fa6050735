"""Style: the route is an instance of a ChatEndpoint class with an async ``__call__`` whose per-room RoomState records hold the seq and the lock, and broadcast runs each send in an asyncio.TaskGroup child under its own ``asyncio.timeout`` (the child never raises, so one failure cancels nobody).

Follows: "a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (an ASCII-only ``\\w`` class, ``fullmatch`` so no trailing newline); "`parse_frame` ... else `ValueError`, and never any other exception" (binary, json.loads's ValueError and RecursionError, non-object, type checked with isinstance before ``in``, text a non-empty str of at most 2000 ``len`` characters, other fields ignored); "`join` is True on 0 -> 1, `leave` True on 1 -> 0 (and harmless twice)" (room -> user -> set, pruned when empty); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`" (one ``json.dumps``, ``list(conns)``, a TaskGroup child with ``asyncio.timeout`` per member, failures returned in snapshot order after all children end); "Always `await ws.accept()` first" / "close with code **4400**"; "The new connection's first frame is the roster" then the join to everyone, a tab gone before its roster is forgotten silently; "`N` is a per-room counter starting at 1 ... does **not** restart" (RoomState kept per app for good); "the sender gets ... bad_frame ... the app emits `ws.error` ... the connection **stays open**"; "A normal disconnect ... is a leave, **not** an error"; "members dropped by one broadcast leave **together**: forget every one of them before announcing any of their leaves" and "the server closes it (code 1011, if it still can)" (closes run as tasks, bounded by send_timeout, so they hold nobody); "a dropped or closed member's later clean-up must not announce the leave twice" (Presence.leave is False for a connection already gone).
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
from nexios.websockets import WebSocket

NAME = re.compile(r"[\w.-]{1,32}", re.ASCII)
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]`` (ASCII ``\\w`` is exactly
    ``[A-Za-z0-9_]``)."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ValueError("'text' must be a string")
    if len(text) == 0:
        raise ValueError("'text' must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is {len(text)} characters long, the limit is {MAX_TEXT}")
    return text


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", ...}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("the frame is not JSON (nested too deeply)") from None
    except ValueError as exc:
        raise ValueError(f"the frame is not JSON ({str(exc)[:60]})") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ValueError("missing or non-string 'type'")
    if kind == "ping":
        return {"type": "ping"}
    if kind == "message":
        return {"type": "message", "text": _check_text(data.get("text"))}
    raise ValueError(f"unknown type {kind[:40]!r}")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._rooms.setdefault(room, {})
        tabs = users.setdefault(user, set())
        arrived = not tabs
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        tabs = users.get(user) if users is not None else None
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once (an empty room: ``[]``)."""
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room`` (every tab of every user)."""
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    ok = [False] * len(members)

    async def deliver(index: int, member: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await member.send_text(text)
        except Exception:  # raised, or TimeoutError: either way this member failed
            return
        ok[index] = True

    async with asyncio.TaskGroup() as group:
        for index, member in enumerate(members):
            group.create_task(deliver(index, member))
    return [member for member, sent in zip(members, ok, strict=True) if not sent]


@dataclass
class RoomState:
    """What a room keeps for as long as the app runs."""

    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class ChatEndpoint:
    """The ``/chat/{room}`` route, its listener and the state they share."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.events = app.events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, RoomState] = {}
        self.users: dict[Any, str] = {}  # connection -> its user
        self.closing: set[asyncio.Task[None]] = set()

    def state(self, room: str) -> RoomState:
        if room not in self.rooms:
            self.rooms[room] = RoomState()
        return self.rooms[room]

    # -- sending (callers hold the room's lock) ---------------------------------
    async def to_room(self, room: str, frame: dict[str, Any]) -> None:
        await self.drop(room, await broadcast(self.presence.connections(room), frame,
                                              timeout=self.send_timeout))

    async def to_one(self, room: str, ws: Any, frame: dict[str, Any]) -> bool:
        failed = await broadcast([ws], frame, timeout=self.send_timeout)
        await self.drop(room, failed)
        return not failed

    async def drop(self, room: str, failed: list[Any]) -> None:
        """Forget every failed member, close them, then announce the leaves."""
        gone = [user for ws in failed
                if (user := self.users.get(ws)) is not None and self.presence.leave(room, user, ws)]
        for ws in failed:
            task = asyncio.create_task(self.close_quietly(ws))
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)
        for user in gone:
            await self.announce_leave(room, user)

    async def close_quietly(self, ws: Any) -> None:
        try:
            async with asyncio.timeout(self.send_timeout):
                await ws.close(1011)
        except Exception:  # already gone: nothing to close
            pass

    async def announce_leave(self, room: str, user: str) -> None:
        await self.events.emit("chat.left", {"room": room, "user": user})
        await self.to_room(room, {"type": "leave", "room": room, "user": user})

    # -- the listener -------------------------------------------------------------
    async def on_room_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        state = self.state(room)
        async with state.lock:
            state.seq += 1
            await self.to_room(room, {"type": "message", "room": room, "user": payload["user"],
                                      "text": payload["text"], "seq": state.seq})

    # -- the route ------------------------------------------------------------------
    async def __call__(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        problem = None if valid_name(room) else "room must be 1-32 of [A-Za-z0-9_.-]"
        if problem is None and not valid_name(user):
            problem = "user must be 1-32 of [A-Za-z0-9_.-]"
        if problem is not None:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": problem}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:  # the client left already
                pass
            return
        if await self.enter(room, user, ws):
            try:
                await self.converse(room, user, ws)
            finally:
                await self.exit(room, user, ws)

    async def enter(self, room: str, user: str, ws: Any) -> bool:
        async with self.state(room).lock:
            self.users[ws] = user
            arrived = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if await broadcast([ws], roster, timeout=self.send_timeout):
                # gone before its roster: forget it silently (its join was never announced)
                self.presence.leave(room, user, ws)
                self.users.pop(ws, None)
                return False
            if arrived:
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.to_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def exit(self, room: str, user: str, ws: Any) -> None:
        async with self.state(room).lock:
            self.users.pop(ws, None)
            if self.presence.leave(room, user, ws):
                await self.announce_leave(room, user)

    async def converse(self, room: str, user: str, ws: Any) -> None:
        while True:
            try:
                message = await ws.receive()
            except Exception:  # disconnected underneath us
                return
            if message.get("type") == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                async with self.state(room).lock:
                    await self.to_one(room, ws, {"type": "error", "code": "bad_frame",
                                                 "message": str(exc)})
                await self.events.emit("ws.error", {"room": room, "user": user,
                                                    "error": str(exc)})
                continue
            if command["type"] == "ping":
                async with self.state(room).lock:
                    await self.to_one(room, ws, {"type": "pong"})
            else:
                await self.events.emit("room.message", {"room": room, "user": user,
                                                        "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    endpoint = ChatEndpoint(app, send_timeout)
    app.events.on("room.message", endpoint.on_room_message)
    # nexios asserts asyncio.iscoroutinefunction(handler): an instance is not one, its bound
    # __call__ is
    app.ws_route("/chat/{room}")(endpoint.__call__)
    return app
