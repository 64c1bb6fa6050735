"""Bug: Presence keeps a conn -> (room, user) index that join overwrites, so one hashable connection id used for two memberships makes leave refuse the first one.

Breaks: "`Presence` | room -> user -> that user's open connections: `join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on 1 -> 0" ... with join("lobby", "ann", "t1") and then join("kitchen", "bob", "t1") (conns are any hashable, here the same id in another room), leave("lobby", "ann", "t1") returns False and leaves ann in roster("lobby") and connections("lobby") for good.
"""

from __future__ import annotations

import asyncio
import json
import re
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
    text = message.get("text")
    if text is None:
        raise ValueError("binary frame (only JSON text frames are understood)")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame is not a JSON object")
    kind = frame.get("type")
    if not isinstance(kind, str):
        raise ValueError('"type" is missing or not a string')
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError('unknown "type" (expected "message" or "ping")')
    body = frame.get("text")
    if not isinstance(body, str):
        raise ValueError('"text" must be a string')
    if not 1 <= len(body) <= MAX_TEXT:
        raise ValueError(f'"text" must be 1 to {MAX_TEXT} characters long')
    return {"type": "message", "text": body}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}
        # where each connection is: leave() checks it in O(1), and a connection
        # that is not (or no longer) there changes nothing
        self._where: dict[Hashable, tuple[str, str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        self._where[conn] = (room, user)
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        if self._where.get(conn) != (room, user):
            return False
        del self._where[conn]
        users = self._rooms[room]
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]

    def user_of(self, conn: Hashable) -> str | None:
        where = self._where.get(conn)
        return where[1] if where else None


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def attempt(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
            return True
        except Exception:
            return False

    ok = await asyncio.gather(*(attempt(conn) for conn in members))
    return [conn for conn, sent in zip(members, ok) if not sent]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    counters: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    closing: set[asyncio.Task[None]] = set()

    def room_lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    def drop_all(room: str, failed: list[Any]) -> list[str]:
        users = [presence.user_of(ws) for ws in failed]
        left = [user for ws, user in zip(failed, users)
                if user is not None and presence.leave(room, user, ws)]
        for ws in failed:
            task = asyncio.ensure_future(close_1011(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        return left

    async def publish(room: str, frame: dict[str, Any]) -> None:
        queue = [frame]
        while queue:
            failed = await broadcast(presence.connections(room), queue.pop(0),
                                     timeout=send_timeout)
            for user in drop_all(room, failed):
                await events.emit("chat.left", {"room": room, "user": user})
                queue.append({"type": "leave", "room": room, "user": user})

    async def on_room_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with room_lock(room):
            counters[room] = counters.get(room, 0) + 1
            await publish(room, {"type": "message", "room": room, "user": payload["user"],
                                 "text": payload["text"], "seq": counters[room]})

    events.on("room.message", on_room_message)

    async def send_own(ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            pass

    @app.ws_route("/chat/{room}")
    async def room_socket(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            problem = "the room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif not valid_name(user):
            problem = "?user= must be 1-32 characters of [A-Za-z0-9_.-]"
        else:
            problem = ""
        if problem:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with room_lock(room):
                first = presence.join(room, user, ws)
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                if await broadcast([ws], roster, timeout=send_timeout):
                    drop_all(room, [ws])
                    return
                if first:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await publish(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await send_own(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await send_own(ws, {"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with room_lock(room):
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await publish(room, {"type": "leave", "room": room, "user": user})

    return app
