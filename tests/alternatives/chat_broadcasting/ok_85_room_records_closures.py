"""Exercise 3: chat_broadcasting.

Closures over per-app records: create_app() keeps a dict of Room dataclasses
(each with its lock and its seq) and a dict from socket to (room, user), and
the route, the room.message listener and the helpers are functions inside it.
Presence keeps one flat dict keyed by (room, user) plus a per-room index of
users. The broadcast wraps each send in asyncio.timeout and turns every
outcome into a True/False, so asyncio.gather never sees an exception and a
timed-out send is cancelled inside its own wrapper before gather returns.
Dropping is two-phase: forget every failed member, schedule its close (1011),
then announce the leaves, collecting whoever those announcements drop for the
next round.
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
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}\Z")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``, never raising."""
    return isinstance(value, str) and bool(NAME.match(value))


def _short(value: Any) -> str:
    shown = repr(value) if isinstance(value, (str, int, float, bool, type(None))) else (
        f"a {type(value).__name__}")
    return shown if len(shown) <= 40 else shown[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` / a message; else ValueError."""
    if message.get("text") is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(message["text"])
    except RecursionError:
        raise ValueError("not JSON (nested too deep)") from None
    except ValueError:
        raise ValueError("not JSON") from None
    if type(data) is not dict:
        raise ValueError("the JSON is not an object")
    if "type" not in data:
        raise ValueError("the type is missing")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"the type {_short(kind)} is unknown")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("the message has no text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"the text must be a string, not {_short(text)}")
    if len(text) == 0:
        raise ValueError("the text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """(room, user) -> that user's connections, and room -> its users."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}
        self._users: dict[str, set[str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        first = key not in self._tabs
        self._tabs.setdefault(key, set()).add(conn)
        self._users.setdefault(room, set()).add(user)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self._tabs[key]
        users = self._users[room]
        users.discard(user)
        if not users:
            del self._users[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for user in self._users.get(room, ()):
            out.extend(self._tabs[(room, user)])
        return out


async def _took(conn: Any, text: str, timeout: float) -> bool:
    try:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)
    except Exception:  # raised, or TimeoutError after the send was cancelled
        return False
    return True


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns``; return the members whose send failed."""
    text = json.dumps(frame)
    snapshot = [*conns]
    took = await asyncio.gather(*(_took(conn, text, timeout) for conn in snapshot))
    return [conn for conn, ok in zip(snapshot, took) if not ok]


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    where: dict[Any, tuple[str, str]] = {}  # socket -> (room, user)
    closers: set[asyncio.Task[None]] = set()

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room()
        return rooms[name]

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:  # gone already, or would not take it in time
            pass

    async def send_room(name: str, frame: dict[str, Any]) -> None:
        """Broadcast under the room's lock; drop whoever fails, rounds until none does."""
        failed = await broadcast(presence.connections(name), frame, timeout=send_timeout)
        while failed:
            leaving: list[str] = []
            for conn in failed:
                _, user = where.pop(conn, (name, None))
                if user is not None and presence.leave(name, user, conn):
                    leaving.append(user)
                task = asyncio.get_running_loop().create_task(close_1011(conn))
                closers.add(task)
                task.add_done_callback(closers.discard)
            failed = []
            for user in leaving:
                await events.emit("chat.left", {"room": name, "user": user})
                failed.extend(await broadcast(presence.connections(name),
                                              {"type": "leave", "room": name, "user": user},
                                              timeout=send_timeout))

    @events.on("room.message")
    async def relay(event: dict[str, Any]) -> None:
        name = event["room"]
        state = room_of(name)
        async with state.lock:
            state.seq += 1
            await send_room(name, {"type": "message", "room": name, "user": event["user"],
                                   "text": event["text"], "seq": state.seq})

    async def tell(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
            return True
        except (WebSocketDisconnect, RuntimeError, OSError):
            return False

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        faults = [f"bad {what} name" for what, value in (("room", name), ("user", user))
                  if not valid_name(value)]
        if faults:
            if await tell(ws, {"type": "error", "code": "bad_request",
                               "message": " and ".join(faults)}):
                try:
                    await ws.close(BAD_REQUEST_CLOSE)
                except (WebSocketDisconnect, RuntimeError, OSError):
                    pass
            return
        state = room_of(name)
        async with state.lock:
            first = presence.join(name, user, ws)
            where[ws] = (name, user)
            if not await tell(ws, {"type": "roster", "room": name,
                                   "users": presence.roster(name)}):
                where.pop(ws, None)
                presence.leave(name, user, ws)
                return
            if first:
                await events.emit("chat.joined", {"room": name, "user": user})
                await send_room(name, {"type": "join", "room": name, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await tell(ws, {"type": "error", "code": "bad_frame",
                                           "message": str(exc)}):
                        return
                    await events.emit("ws.error", {"room": name, "user": user,
                                                   "error": str(exc)})
                    continue
                if command["type"] == "message":
                    await events.emit("room.message",
                                      {"room": name, "user": user, "text": command["text"]})
                elif not await tell(ws, {"type": "pong"}):
                    return
        except WebSocketDisconnect:
            return
        finally:
            async with state.lock:
                where.pop(ws, None)
                if presence.leave(name, user, ws):
                    await events.emit("chat.left", {"room": name, "user": user})
                    await send_room(name, {"type": "leave", "room": name, "user": user})

    return app
