"""Exercise 3: chat_broadcasting. Closures and per-room locks; the broadcast snapshot de-duplicated with dict.fromkeys.

BUG (planted): the page says broadcast "takes any members that have a `send_text`,
hashable or not, and two that compare equal are still two members: each gets the
frame (take the snapshot as a list, not a set or dict keys)". The tidy-up turned
`list(conns)` into `list(dict.fromkeys(conns))` ("a snapshot that keeps the order
and never sends one member twice"). Two members that compare equal now collapse
into one, so only the first gets the frame, and a member that is not hashable (an
`eq=True` dataclass, a dict-like tab) makes broadcast raise TypeError before
anyone gets anything. The app's sockets compare by identity, so the route is fine.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except RecursionError:
        text = f"<a deeply nested {type(value).__name__}>"
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message, else ValueError."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame is a JSON {type(data).__name__}, not an object")
    if "type" not in data:
        raise ValueError("the frame has no 'type'")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError(f"unknown type {_short(kind)}: expected 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a 'text'")
    body = data["text"]
    if not isinstance(body, str):
        raise ValueError(f"the text must be a string, not {type(body).__name__}")
    if not body:
        raise ValueError("the text is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"the text is {len(body)} characters long, more than {MAX_TEXT}")
    return {"type": "message", "text": body}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        first = not tabs
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
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
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def _send_one(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(dict.fromkeys(conns))  # the snapshot: each member once, in order
    text = json.dumps(frame)

    async def attempt(conn: Any) -> bool:
        try:
            await asyncio.wait_for(_send_one(conn, text), timeout)
        except Exception:
            return False
        return True

    delivered = await asyncio.gather(*(attempt(conn) for conn in members))
    return [conn for conn, ok in zip(members, delivered) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    owner: dict[Any, str] = {}

    def lock_for(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def close_quietly(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    async def to_room(room: str, frame: dict[str, Any]) -> None:
        """Send to the room (its lock held) and drop whoever failed."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        await drop(room, failed)

    async def drop(room: str, conns: list[Any]) -> None:
        if not conns:
            return
        gone = [owner[c] for c in conns if c in owner and presence.leave(room, owner[c], c)]
        for conn in conns:
            owner.pop(conn, None)
        await asyncio.gather(*(close_quietly(conn) for conn in conns))
        for user in gone:
            await announce_leave(room, user)

    async def announce_leave(room: str, user: str) -> None:
        await events.emit("chat.left", {"room": room, "user": user})
        await to_room(room, {"type": "leave", "room": room, "user": user})

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock_for(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await to_room(room, frame)

    events.on("room.message", on_message)

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
                             "message": f"missing or invalid {what} name: 1-32 of [A-Za-z0-9_.-]"})
            try:
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with lock_for(room):
            arrived = presence.join(room, user, ws)
            owner[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            if not await reply(ws, roster):
                presence.leave(room, user, ws)
                owner.pop(ws, None)
                return
            if arrived:
                await events.emit("chat.joined", {"room": room, "user": user})
                await to_room(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    if not await reply(ws, {"type": "error", "code": "bad_frame",
                                            "message": str(exc)}):
                        break
                    continue
                if command["type"] == "ping":
                    if not await reply(ws, {"type": "pong"}):
                        break
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with lock_for(room):
                owner.pop(ws, None)
                if presence.leave(room, user, ws):
                    await announce_leave(room, user)

    return app
