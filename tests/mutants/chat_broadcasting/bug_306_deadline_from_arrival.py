"""Exercise 3: chat_broadcasting. A message's send timeout starts when it arrives, not when its send starts.

BUG (planted): "a member that reads slowly but takes each frame within `send_timeout` is
not dropped: it gets every frame, in the same order as everyone else (the time a frame
waits behind that member's earlier frames is not part of its send)". The room.message
listener reads the clock once, when the message arrives, and gives the broadcast only
what is left of send_timeout after waiting for the room (the earlier broadcast still
under way). When two messages arrive together and a member reads slowly (each frame
well within send_timeout), the second message's send to it gets a shortened timeout and
that member is dropped (closed 1011, leave announced) though it takes every frame in time.
"""


from __future__ import annotations

import asyncio
import json
import re
import reprlib
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
DROPPED_CLOSE = 1011
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlevel = 2


def _quote(value: object) -> str:
    """A short, ASCII-safe repr of a value the client sent."""
    try:
        return _short.repr(value)
    except Exception:
        return f"a {type(value).__name__}"


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON as a text frame")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame is JSON but not an object (a {type(data).__name__})")
    if "type" not in data:
        raise ValueError("the frame has no 'type'")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_quote(kind)}: use 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a 'text'")
    body = data["text"]
    if not isinstance(body, str):
        raise ValueError(f"'text' must be a string, not {type(body).__name__}")
    if not body:
        raise ValueError("'text' is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"'text' has {len(body)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": body}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        first = not conns
        conns.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        conns = users.get(user) if users else None
        if not conns or conn not in conns:
            return False
        conns.discard(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def deliver(conn: Any) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:
            return False
        return True

    results = await asyncio.gather(*(deliver(conn) for conn in members))
    return [conn for conn, ok in zip(members, results) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    users: dict[Any, str] = {}  # open connection -> its user (its room is the route's)

    def lock_of(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def close_dropped(conn: Any) -> None:
        try:
            async with asyncio.timeout(send_timeout):
                await conn.close(code=DROPPED_CLOSE)
        except Exception:
            pass  # already gone, or not even taking a close frame

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room as it is now (the caller holds the room's lock)."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if failed:
            await drop(room, failed)

    async def drop(room: str, conns: list[Any]) -> None:
        """Forget every failed member first, close them, then announce the leaves."""
        dropped, gone = [], []
        for conn in conns:
            user = users.pop(conn, None)
            if user is None:
                continue  # already cleaned up by its route
            dropped.append(conn)
            if presence.leave(room, user, conn):
                gone.append(user)
        await asyncio.gather(*(close_dropped(conn) for conn in dropped))
        for user in gone:
            await announce_leave(room, user)

    async def announce_leave(room: str, user: str) -> None:
        await bus.emit("chat.left", {"room": room, "user": user})
        await send_room(room, {"type": "leave", "room": room, "user": user})

    async def enter(room: str, user: str, ws: Any) -> bool:
        async with lock_of(room):
            first = presence.join(room, user, ws)
            users[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            try:
                async with asyncio.timeout(send_timeout):
                    await ws.send_text(json.dumps(roster))
            except Exception:  # gone before its roster: gone from the room
                users.pop(ws, None)
                presence.leave(room, user, ws)
                await close_dropped(ws)
                return False
            if first:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def depart(room: str, user: str, ws: Any) -> None:
        async with lock_of(room):
            if users.pop(ws, None) is None:
                return  # dropped by a broadcast, which announced it
            if presence.leave(room, user, ws):
                await announce_leave(room, user)

    async def reply(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
        except Exception:
            return False
        return True

    async def relay(event: dict[str, Any]) -> None:
        room = event["room"]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + send_timeout  # the message must be out within send_timeout
        async with lock_of(room):
            seqs[room] = seq = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": event["user"],
                     "text": event["text"], "seq": seq}
            left = max(0.0, deadline - loop.time())
            failed = await broadcast(presence.connections(room), frame, timeout=left)
            if failed:
                await drop(room, failed)

    bus.on("room.message", relay)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        room = user = None
        try:
            await ws.accept()
            room = ws.path_params.get("room")
            user = ws.query_params.get("user")
            if not valid_name(room):
                problem = f"bad room name {_quote(room)}: 1-32 characters of [A-Za-z0-9_.-]"
            elif user is None:
                problem = "missing user: connect with ?user=NAME"
            elif not valid_name(user):
                problem = f"bad user name {_quote(user)}: 1-32 characters of [A-Za-z0-9_.-]"
            else:
                problem = None
            if problem is not None:
                room = None
                await reply(ws, {"type": "error", "code": "bad_request", "message": problem})
                await ws.close(code=BAD_REQUEST_CLOSE)
                return
            if not await enter(room, user, ws):
                return
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    sent = await reply(ws, {"type": "error", "code": "bad_frame",
                                            "message": error})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": error})
                    if not sent:
                        break
                    continue
                if command["type"] == "ping":
                    if not await reply(ws, {"type": "pong"}):
                        break
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass  # a normal goodbye
        except Exception:
            pass  # the socket is gone in some other way: it leaves all the same
        finally:
            if room is not None and user is not None:
                await depart(room, user, ws)

    return app
