"""Style: Presence keeps each room's roster as a bisect-maintained sorted list next to a (room, user) -> tabs map, parse_frame and the route dispatch through tables of small functions, and broadcast starts one task per send and collects them with `asyncio.wait`.

Follows: "`valid_name`: a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (isinstance, then every character in a frozenset of those 64, and the length); "`parse_frame` ... `ValueError("<what is wrong>")`, and never any other exception" (binary, both `json.loads` failures, non-object, `type` looked up only when it is a `str`, `text` a non-empty `str` of at most 2000 by `len`; quotes with a short `repr`); "`join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on 1 -> 0 (and harmless twice), `roster(room)`, `connections(room)`" (`insort` on arrival and removal by `bisect_left` on departure, so the roster is sorted by code point and each user once); "serialise once, send to a snapshot ... each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame" (one `json.dumps`, a `wait_for` task per member of `list(conns)`, `asyncio.wait` for all); "Always `await ws.accept()` first", "bad_request ... 4400"; "first frame is the roster", "then the join, to everyone" (under the room's lock; a tab gone before its roster is not added); "`seq` per-room counter ... does **not** restart" (a dict never pruned, incremented under the room's lock); "dropped: it leaves as if it had closed ..., the server closes it (code 1011, if it still can)" and "forget every one of them before announcing any of their leaves" (`_drop` forgets a whole batch, then announces, and drops whoever those announcements lose the same way); "the sender gets `bad_frame` ... `ws.error` ... the connection **stays open**"; "A normal disconnect ... not an error" (`websocket.disconnect` and `WebSocketDisconnect` end the loop quietly; `finally` leaves once).
"""

from __future__ import annotations

import asyncio
import json
import re
from bisect import bisect_left, insort
from collections.abc import Callable, Hashable, Iterable
from functools import partial
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
    """True only for a str of 1-32 characters, each one of the 64 in ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and 1 <= len(value) <= 32 and _NAME_CHARS.issuperset(value)


def _q(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 32 else shown[:29] + "..."


def _ping(data: dict[str, Any]) -> dict[str, Any]:
    return {"type": "ping"}


def _message(data: dict[str, Any]) -> dict[str, Any]:
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} characters long, the limit is {MAX_TEXT}")
    return {"type": "message", "text": text}


_KINDS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {"ping": _ping, "message": _message}


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frame: send JSON text frames")
    try:
        data = json.loads(raw)
    except ValueError:
        raise ValueError("the frame is not JSON") from None
    except RecursionError:
        raise ValueError("the frame is not JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    handler = _KINDS.get(kind) if isinstance(kind, str) else None
    if handler is None:
        raise ValueError(f"unknown type {_q(kind)}")
    return handler(data)


class Presence:
    """room -> user -> open connections; the sorted roster is kept up to date as users come and go."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}
        self._names: dict[str, list[str]] = {}  # room -> sorted users

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is not None:
            tabs.add(conn)
            return False
        self._tabs[key] = {conn}
        insort(self._names.setdefault(room, []), user)
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self._tabs[key]
        names = self._names[room]
        del names[bisect_left(names, user)]
        if not names:
            del self._names[room]
        return True

    def roster(self, room: str) -> list[str]:
        return list(self._names.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for user in self._names.get(room, ()) for conn in self._tabs[(room, user)]]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """One task per member of a snapshot of ``conns``; return the members whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = {asyncio.ensure_future(asyncio.wait_for(conn.send_text(text), timeout)): conn
             for conn in members}
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    failed = {id(tasks[t]) for t in tasks if t.cancelled() or t.exception() is not None}
    return [conn for conn in members if id(conn) in failed]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    user_of: dict[Any, str] = {}
    seq: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    closing: set[asyncio.Task[Any]] = set()

    def lock_of(room: str) -> asyncio.Lock:
        return locks.get(room) or locks.setdefault(room, asyncio.Lock())

    def close_1011(conn: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(conn.close(1011), send_timeout)
            except Exception:
                pass
        task = asyncio.ensure_future(close())
        closing.add(task)
        task.add_done_callback(closing.discard)

    async def _drop(room: str, batch: list[Any]) -> None:
        """Forget a whole batch of dropped members, then announce who of them left."""
        gone = []
        for conn in batch:
            user = user_of.get(conn)
            if user is not None and presence.leave(room, user, conn):
                gone.append(user)
            close_1011(conn)
        for user in gone:
            await events.emit("chat.left", {"room": room, "user": user})
            await _to_room(room, {"type": "leave", "room": room, "user": user})

    async def _to_room(room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if failed:
            await _drop(room, failed)

    async def on_room_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock_of(room):
            seq[room] = seq.get(room, 0) + 1
            await _to_room(room, {"type": "message", "room": room, "user": payload["user"],
                                  "text": payload["text"], "seq": seq[room]})

    events.on("room.message", on_room_message)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def do_ping(ws: WebSocket, room: str, user: str, command: dict[str, Any]) -> None:
        await reply(ws, {"type": "pong"})

    async def do_message(ws: WebSocket, room: str, user: str, command: dict[str, Any]) -> None:
        await events.emit("room.message", {"room": room, "user": user, "text": command["text"]})

    actions = {"ping": do_ping, "message": do_message}

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        checks = (
            (valid_name(room), partial(str.format, "invalid room name {}", _q(room))),
            (user is not None, partial(str, "the user parameter is missing")),
            (valid_name(user), partial(str.format, "invalid user name {}", _q(user))),
        )
        for ok, why in checks:
            if not ok:
                try:
                    await reply(ws, {"type": "error", "code": "bad_request", "message": why()})
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        async with lock_of(room):
            users = presence.roster(room)
            if user not in users:
                insort(users, user)
            try:
                await asyncio.wait_for(reply(ws, {"type": "roster", "room": room, "users": users}),
                                       send_timeout)
            except Exception:
                return  # gone before its roster: never part of the room
            user_of[ws] = user
            if presence.join(room, user, ws):
                await events.emit("chat.joined", {"room": room, "user": user})
                await _to_room(room, {"type": "join", "room": room, "user": user})
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
                await actions[command["type"]](ws, room, user, command)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            async with lock_of(room):
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await _to_room(room, {"type": "leave", "room": room, "user": user})
            user_of.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app
