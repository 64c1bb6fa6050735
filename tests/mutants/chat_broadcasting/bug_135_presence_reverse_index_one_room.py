"""Bug: `Presence` keeps one reverse index connection -> (room, user) and trusts it in `leave`, so a connection joined in a second room can no longer leave the first one (the index only remembers the latest room).

Breaks: "A connection is any hashable, counted per room and user: one joined in two rooms is in each, and leaving one room with it leaves the other as it was" ... `join("a", "ann", c)`, `join("b", "ann", c)`, then `leave("a", "ann", c)` returns False and changes nothing: ann is still in `roster("a")` and `c` in `connections("a")`, and she can never leave room a.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("type")
    if type(kind) is not str or kind not in ("ping", "message"):
        raise ValueError("missing type" if "type" not in data else f"unknown type {repr(kind)[:32]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if type(text) is not str:
        raise ValueError("text must be a string")
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))
        self._where: dict[Hashable, tuple[str, str]] = {}  # connection -> (room, user)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        self._where[conn] = (room, user)
        tabs = self._tabs[room][user]
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        if self._where.get(conn) != (room, user):
            return False  # not there (any more): leaving twice is harmless
        del self._where[conn]
        users = self._tabs[room]
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._tabs[room]) if room in self._tabs else []

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        if room not in self._tabs:
            return []
        return [c for tabs in self._tabs[room].values() for c in tabs]


async def _timed_send(conn: Any, text: str, timeout: float, failed: list[Any]) -> None:
    try:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)
    except Exception:
        failed.append(conn)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    failed: list[Any] = []
    async with asyncio.TaskGroup() as group:
        for conn in members:
            group.create_task(_timed_send(conn, text, timeout, failed))
    order = {id(conn): i for i, conn in enumerate(members)}
    return sorted(failed, key=lambda conn: order[id(conn)])


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    counters: defaultdict[str, int] = defaultdict(int)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    users: dict[Any, str] = {}
    dropped: set[Any] = set()
    closers: set[asyncio.Task[None]] = set()

    async def close_dropped(ws: Any) -> None:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.close(code=1011)
        except Exception:
            pass

    async def speak(room: str, frame: dict[str, Any]) -> None:
        """Room lock held: send to the room, then drop all who failed before announcing them."""
        backlog = [frame]
        while backlog:
            failed = await broadcast(presence.connections(room), backlog.pop(0),
                                     timeout=send_timeout)
            gone = []
            for ws in failed:
                dropped.add(ws)
                if ws in users and presence.leave(room, users[ws], ws):
                    gone.append(users[ws])
                task = asyncio.ensure_future(close_dropped(ws))
                closers.add(task)
                task.add_done_callback(closers.discard)
            for user in gone:
                await events.emit("chat.left", {"room": room, "user": user})
                backlog.append({"type": "leave", "room": room, "user": user})

    async def answer(ws: Any, frame: dict[str, Any]) -> bool:
        return not await broadcast([ws], frame, timeout=send_timeout)

    async def on_message(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with locks[room]:
            counters[room] += 1
            await speak(room, {"type": "message", "room": room, "user": msg["user"],
                               "text": msg["text"], "seq": counters[room]})

    events.on("room.message", on_message)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": "room and user must be 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        users[ws] = user
        try:
            async with locks[room]:
                first = presence.join(room, user, ws)
                if not await answer(ws, {"type": "roster", "room": room,
                                         "users": presence.roster(room)}):
                    presence.leave(room, user, ws)
                    return
                if first:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await speak(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws in dropped:
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await answer(ws, {"type": "error", "code": "bad_frame",
                                             "message": str(exc)}):
                        break
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    if not await answer(ws, {"type": "pong"}):
                        break
                else:
                    await events.emit("room.message", {"room": room, "user": user,
                                                       "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with locks[room]:
                users.pop(ws, None)
                dropped.discard(ws)
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await speak(room, {"type": "leave", "room": room, "user": user})

    app.ws_route("/chat/{room}")(chat)
    return app
