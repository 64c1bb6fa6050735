"""Exercise 3: chat_broadcasting. Per-room locks; the close path reports every closed connection on the bus.

BUG (planted): The page: "`chat.left` | `{"room": R, "user": U}` (user 1 -> 0 connections)",
and "A second tab of the same user is not a second user: ... no leave when it
closes while another tab is open". This version emits ``chat.left`` for every
closed tab and only gates the ``leave`` frame on the 1 -> 0 transition (the
student read the bus event as "a connection left"); a listener of
``chat.left`` hears ann leave when she closes one of her two tabs, while she is
still in the room (and hears it twice in all).

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
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message command."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame is JSON but not an object ({type(data).__name__})")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        shown = repr(kind)
        raise ValueError(f"unknown or missing type: {shown[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters ({len(text)})")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        first = not tabs
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        if users is None:
            return False
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
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
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def _send_one(conn: Any, text: str, timeout: float) -> bool:
    try:
        await asyncio.wait_for(conn.send_text(text), timeout)
    except Exception:
        return False
    return True


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    results = await asyncio.gather(*(_send_one(c, text, timeout) for c in members))
    return [c for c, ok in zip(members, results) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    owners: dict[Any, str] = {}  # connection -> its user (a connection is in one room)

    def lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_dropped(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(1011), send_timeout)
        except Exception:
            pass

    async def announce_leave(room: str, user: str) -> None:
        await bus.emit("chat.left", {"room": room, "user": user})
        await send_room(room, {"type": "leave", "room": room, "user": user})

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room; drop the failed members together (lock held)."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        gone: list[str] = []
        for conn in failed:
            user = owners.pop(conn, None)
            if user is not None and presence.leave(room, user, conn):
                gone.append(user)
        for conn in failed:
            await close_dropped(conn)
        for user in gone:
            await announce_leave(room, user)

    @bus.on("room.message")
    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await send_room(room, frame)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
        except Exception:
            return False
        return True

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            await reply(ws, {"type": "error", "code": "bad_request",
                             "message": f"missing or invalid {what} name"})
            try:
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with lock(room):
            owners[ws] = user
            first = presence.join(room, user, ws)
            if not await reply(ws, {"type": "roster", "room": room,
                                    "users": presence.roster(room)}):
                owners.pop(ws, None)
                if presence.leave(room, user, ws) and not first:
                    await announce_leave(room, user)
                return
            if first:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await send_room(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                try:
                    message = await ws.receive()
                except (WebSocketDisconnect, RuntimeError):
                    break
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    if not await reply(ws, {"type": "error", "code": "bad_frame",
                                            "message": error}):
                        break
                    await bus.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    if not await reply(ws, {"type": "pong"}):
                        break
                    continue
                await bus.emit("room.message",
                               {"room": room, "user": user, "text": command["text"]})
        finally:
            async with lock(room):
                owners.pop(ws, None)
                last = presence.leave(room, user, ws)
                await bus.emit("chat.left", {"room": room, "user": user})
                if last:
                    await send_room(room, {"type": "leave", "room": room, "user": user})

    return app
