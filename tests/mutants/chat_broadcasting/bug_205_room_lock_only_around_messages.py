"""Bug: The room's lock is held only around "next seq, then broadcast" of a message, so a new tab's roster and the join and leave announcements run beside a message broadcast that is still under way.

Breaks: "A roster is the room as it is when it is sent: a member's roster and the joins and
leaves it gets after it always add up to who is in the room (a roster that waited for a
broadcast still under way, which dropped someone, must not list them)." ... With
send_timeout=0.3 and ann and bob (who stopped reading) in lobby, ann sends "m" and cy
connects while that broadcast waits on bob: cy's roster comes at once as ["ann", "bob",
"cy"] and bob's leave follows, where cy should wait for the broadcast and get ["ann",
"cy"]. The lock was read from "Every member sees a room's frames in the same order, and
`seq` agrees with that order" as a rule for the numbered message frames alone.
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
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:40])
    return type(value).__name__


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text") if isinstance(message, dict) else None
    if not isinstance(raw, str):
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
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_show(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {_show(text)}")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not tabs
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        tabs = users.get(user) if users else None
        if not tabs or conn not in tabs:
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
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    async def timed(conn: Any) -> bool:
        try:
            await asyncio.wait_for(send(conn), timeout)
        except Exception:
            return False
        return True

    oks = await asyncio.gather(*(timed(c) for c in members))
    return [c for c, ok in zip(members, oks) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    seqs: defaultdict[str, int] = defaultdict(int)
    owners: dict[Any, str] = {}
    dropped: set[Any] = set()
    closing: set[asyncio.Task[None]] = set()

    async def close_quietly(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    def drop(room: str, failed: list[Any]) -> list[str]:
        """Forget every failed member first; return the users who left."""
        left = []
        dropped.update(failed)
        for ws in failed:
            if presence.leave(room, owners.get(ws, ""), ws):
                left.append(owners[ws])
        for ws in failed:
            task = asyncio.ensure_future(close_quietly(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        return left

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room; announce the leaves of whoever it drops."""
        todo = [frame]
        while todo:
            failed = await broadcast(presence.connections(room), todo.pop(0), timeout=send_timeout)
            for user in drop(room, failed):
                await bus.emit("chat.left", {"room": room, "user": user})
                todo.append({"type": "leave", "room": room, "user": user})

    async def send_one(room: str, ws: Any, frame: dict[str, Any]) -> bool:
        """One frame to one member; a failure drops it."""
        if ws in dropped:
            return False
        if await broadcast([ws], frame, timeout=send_timeout):
            for user in drop(room, [ws]):
                await bus.emit("chat.left", {"room": room, "user": user})
                await deliver(room, {"type": "leave", "room": room, "user": user})
            return False
        return True

    @bus.on("room.message")
    async def on_message(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with locks[room]:  # one lock per room around "next seq, then broadcast"
            seqs[room] += 1
            frame = {"type": "message", "room": room, "user": msg["user"],
                     "text": msg["text"], "seq": seqs[room]}
            await deliver(room, frame)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif not valid_name(user):
            problem = "user must be 1-32 characters of [A-Za-z0-9_.-]"
        if problem:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        owners[ws] = user
        try:
            arrived = presence.join(room, user, ws)
            try:
                await ws.send_text(json.dumps(
                    {"type": "roster", "room": room, "users": presence.roster(room)}))
            except Exception:
                presence.leave(room, user, ws)
                return
            if arrived:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await deliver(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws in dropped:
                    break  # closed, or dropped by a broadcast: it left already
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await send_one(room, ws, {"type": "error", "code": "bad_frame",
                                                     "message": str(exc)}):
                        break
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    if not await send_one(room, ws, {"type": "pong"}):
                        break
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except Exception:
            pass  # a connection that died: it leaves below, like one that closed
        finally:
            if presence.leave(room, user, ws):
                await bus.emit("chat.left", {"room": room, "user": user})
                await deliver(room, {"type": "leave", "room": room, "user": user})
            owners.pop(ws, None)
            dropped.discard(ws)

    return app
