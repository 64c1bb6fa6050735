"""Exercise 3: chat_broadcasting. The route fires room.message without awaiting it: a close right after a message overtakes it.

BUG (planted): "A message is sent from the room as the sender is in it: a message followed
at once by the sender's close reaches the room before that sender's leave". The route uses
app.events.fire() (emit in a task, not awaited) so its receive loop never waits on a
broadcast; when the close is already queued behind the message, the route's clean-up
announces the leave first and the message reaches the room after it.
"""

from __future__ import annotations

import asyncio
import json
import re
import reprlib
from collections import defaultdict
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
KINDS = ("message", "ping")

_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlevel = 2


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown type {_short.repr(kind)}: use 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"the text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("the text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
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
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]

    def user_of(self, room: str, conn: Hashable) -> str | None:
        for user, conns in self._rooms.get(room, {}).items():
            if conn in conns:
                return user
        return None


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    results = await asyncio.gather(
        *(asyncio.wait_for(send(conn), timeout) for conn in members), return_exceptions=True
    )
    return [conn for conn, result in zip(members, results) if isinstance(result, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    seqs: defaultdict[str, int] = defaultdict(int)
    closing: set[asyncio.Task[None]] = set()

    async def close_dropped(conn: Any) -> None:
        try:
            await conn.close(code=DROPPED_CLOSE)
        except Exception:  # already gone: nothing to close
            pass

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Send to the room as it is now and drop whoever failed. The room's lock is held."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if failed:
            await drop(room, failed)

    async def drop(room: str, conns: list[Any]) -> None:
        gone = []
        for conn in conns:  # forget them all first ...
            user = presence.user_of(room, conn)
            if user is not None and presence.leave(room, user, conn):
                gone.append(user)
        for conn in conns:
            task = asyncio.create_task(close_dropped(conn))
            closing.add(task)
            task.add_done_callback(closing.discard)
        for user in gone:  # ... then announce
            await announce_leave(room, user)

    async def announce_leave(room: str, user: str) -> None:
        await deliver(room, {"type": "leave", "room": room, "user": user})
        await events.emit("chat.left", {"room": room, "user": user})

    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with locks[room]:
            seqs[room] += 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await deliver(room, frame)

    events.on("room.message", relay)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            return False
        return True

    async def refuse(ws: WebSocket, problem: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": problem}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def enter(ws: WebSocket, room: str, user: str) -> bool:
        async with locks[room]:
            joined = presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            try:
                await ws.send_text(json.dumps(roster))
            except Exception:  # gone before its roster: gone from the room too
                presence.leave(room, user, ws)
                return False
            if joined:
                await deliver(room, {"type": "join", "room": room, "user": user})
                await events.emit("chat.joined", {"room": room, "user": user})
        return True

    async def serve(ws: WebSocket, room: str, user: str) -> None:
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    if not await reply(ws, {"type": "error", "code": "bad_frame",
                                            "message": error}):
                        return
                    await events.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    if not await reply(ws, {"type": "pong"}):
                        return
                else:
                    events.fire("room.message",
                                {"room": room, "user": user, "text": command["text"]})
        finally:
            async with locks[room]:
                if presence.leave(room, user, ws):
                    await announce_leave(room, user)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        try:
            await ws.accept()
            room = ws.path_params.get("room")
            user = ws.query_params.get("user")
            if not valid_name(room):
                await refuse(ws, "the room must be 1-32 characters of [A-Za-z0-9_.-]")
                return
            if not valid_name(user):
                await refuse(ws, "?user= must be 1-32 characters of [A-Za-z0-9_.-]")
                return
            if await enter(ws, room, user):
                await serve(ws, room, user)
        except (WebSocketDisconnect, RuntimeError):
            pass

    return app
