"""OK (style): closures inside create_app, Presence as a flat (room, user) -> tabs index, itertools.count seqs, an asyncio.TaskGroup broadcast.

Follows the text, in particular:
"A second tab of the same user is not a second user: no join when it opens, no leave when it closes while another tab is open, and the roster lists the user once."
"send to a snapshot of the room's connections, so a join or leave during a broadcast changes the next broadcast, not this one"
"give each send its own timeout (send_timeout seconds, given to create_app)"
"Every member sees a room's frames in the same order, and seq agrees with that order."
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
DROPPED_CLOSE = 1011
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frames are not allowed")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError, TypeError):
        raise ValueError("not JSON") from None
    if type(data) is not dict:
        raise ValueError("not a JSON object")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in KINDS:
        shown = repr(kind)
        raise ValueError("unknown type " + (shown if len(shown) <= 24 else shown[:21] + "..."))
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if "text" not in data:
        raise ValueError("missing text")
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room, kept as (room, user) -> tabs plus room -> users."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}
        self._users: defaultdict[str, set[str]] = defaultdict(set)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs:
            tabs.add(conn)
            return False
        self._tabs[key] = {conn}
        self._users[room].add(user)
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
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
        return [conn for user in self._users.get(room, ()) for conn in self._tabs[(room, user)]]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return those whose send failed."""
    snapshot = list(conns)
    text = json.dumps(frame)
    failed: list[Any] = []

    async def deliver(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            failed.append(conn)

    async with asyncio.TaskGroup() as group:
        for conn in snapshot:
            group.create_task(deliver(conn))
    return failed


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    counters: defaultdict[str, Any] = defaultdict(lambda: itertools.count(1))
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    place: dict[Any, tuple[str, str]] = {}
    background: set[asyncio.Task[None]] = set()

    async def reply(ws: Any, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)

    async def close_quietly(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(DROPPED_CLOSE), send_timeout)
        except Exception:
            pass

    async def dropped(failed: list[Any]) -> None:
        if not failed:
            return
        leaves = []
        for conn in failed:
            where = place.pop(conn, None)
            if where and presence.leave(*where, conn):
                leaves.append(where)
        for conn in failed:
            task = asyncio.create_task(close_quietly(conn))
            background.add(task)
            task.add_done_callback(background.discard)
        for room, user in leaves:
            await left(room, user)

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        async with locks[room]:
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        await dropped(failed)

    async def left(room: str, user: str) -> None:
        await events.emit("chat.left", {"room": room, "user": user})
        await send_room(room, {"type": "leave", "room": room, "user": user})

    @events.on("room.message")
    async def on_room_message(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with locks[room]:
            frame = {"type": "message", "room": room, "user": msg["user"],
                     "text": msg["text"], "seq": next(counters[room])}
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        await dropped(failed)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        wrong = []
        if not valid_name(room):
            wrong.append("room")
        if not valid_name(user):
            wrong.append("user" if user is not None else "user (missing)")
        if wrong:
            try:
                await reply(ws, {"type": "error", "code": "bad_request",
                                 "message": " and ".join(wrong)
                                 + " must be 1-32 characters of [A-Za-z0-9_.-]"})
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return

        joined_failed: list[Any] = []
        async with locks[room]:
            arrived = presence.join(room, user, ws)
            place[ws] = (room, user)
            try:
                await reply(ws, {"type": "roster", "room": room, "users": presence.roster(room)})
                ok = True
            except Exception:
                place.pop(ws, None)
                presence.leave(room, user, ws)
                ok = False
            if ok and arrived:
                joined_failed = await broadcast(presence.connections(room),
                                                {"type": "join", "room": room, "user": user},
                                                timeout=send_timeout)
        if not ok:
            await close_quietly(ws)
            return
        if arrived:
            await events.emit("chat.joined", {"room": room, "user": user})
        await dropped(joined_failed)

        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await reply(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await reply(ws, {"type": "pong"})
                    continue
                await events.emit("room.message",
                                  {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, asyncio.TimeoutError, OSError, RuntimeError):
            pass
        finally:
            place.pop(ws, None)
            if presence.leave(room, user, ws):
                await left(room, user)

    return app
