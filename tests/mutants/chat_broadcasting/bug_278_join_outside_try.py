"""Exercise 3: chat_broadcasting. Closures inside create_app, the route shaped like the lesson's: join, then try / finally around the receive loop.

BUG (planted): "A tab can be gone before its roster is sent: that send then raises
`WebSocketDisconnect` too, and the tab is gone from the room like one that closed (no
later roster lists it)." This version joins the tab and sends its roster (and the join)
before entering the `try` whose `finally` takes the tab out of the room, as the lesson's
chat joins before its `try`: when the roster send raises, the clean-up never runs, the
dead tab outlives its connection in the presence map, later rosters list its user, and
the WebSocketDisconnect escapes the handler into the server's log.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

from day25 import install

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters, each one of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str) or not 1 <= len(value) <= 32:
        return False
    return all(ch in ALLOWED for ch in value)


def _show(value: object) -> str:
    try:
        text = repr(value)
    except Exception:
        return type(value).__name__
    return text if len(text) <= 30 else text[:27] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: frames must be JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, TypeError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if "type" not in data:
        raise ValueError("missing 'type'")
    kind = data["type"]
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError(f"unknown type: {_show(kind)}")
    if "text" not in data:
        raise ValueError("a message needs a 'text'")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"'text' is not a string: {_show(text)}")
    if text == "":
        raise ValueError("'text' is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> that user's open connections."""

    def __init__(self) -> None:
        self._by_room: defaultdict[str, dict[str, set[Hashable]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._by_room[room]
        arrived = user not in users
        users.setdefault(user, set()).add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._by_room.get(room, {})
        conns = users.get(user, set())
        if conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        del users[user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._by_room.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for conns in self._by_room.get(room, {}).values():
            out.extend(conns)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` at once; return the members that failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(send(conn)) for conn in members]
    try:
        await asyncio.wait(tasks, timeout=timeout)
    finally:
        late = [task for task in tasks if not task.done()]
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
    failed = []
    for conn, task in zip(members, tasks):
        if task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


@dataclass
class RoomState:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = install(app)
    presence = Presence()
    rooms: dict[str, RoomState] = {}
    owner: dict[Any, str] = {}

    def state(room: str) -> RoomState:
        if room not in rooms:
            rooms[room] = RoomState()
        return rooms[room]

    async def close_dropped(dropped: list[Any]) -> None:
        async def close(ws: Any) -> None:
            try:
                await asyncio.wait_for(ws.close(code=1011), send_timeout)
            except Exception:
                pass  # already gone (its send raised), or it takes not even a close

        await asyncio.gather(*(close(ws) for ws in dropped))

    async def deliver(room: str, frame: dict[str, Any]) -> list[str]:
        """Send to the room now (its lock held); return every user who left because of it."""
        left: list[str] = []
        queue = [frame]
        while queue:
            failed = await broadcast(presence.connections(room), queue.pop(0),
                                     timeout=send_timeout)
            gone: list[str] = []
            for ws in failed:  # forget every dropped member first
                user = owner.pop(ws, None)
                if user is not None and presence.leave(room, user, ws):
                    gone.append(user)
            await close_dropped(failed)
            for user in gone:  # then announce their leaves, to who is still there
                left.append(user)
                queue.append({"type": "leave", "room": room, "user": user})
        return left

    async def emit_left(room: str, users: list[str]) -> None:
        for user in users:
            await bus.emit("chat.left", {"room": room, "user": user})

    @bus.on("room.message")
    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        rs = state(room)
        async with rs.lock:
            rs.seq += 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": rs.seq}
            left = await deliver(room, frame)
        await emit_left(room, left)

    async def answer(ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            pass  # that tab's own receive loop (or the next broadcast) sees it gone

    async def refuse(ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": why}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            await refuse(ws, "bad room name: 1-32 characters of [A-Za-z0-9_.-]")
            return
        if user is None:
            await refuse(ws, "missing ?user=")
            return
        if not valid_name(user):
            await refuse(ws, "bad user name: 1-32 characters of [A-Za-z0-9_.-]")
            return
        rs = state(room)
        async with rs.lock:
            owner[ws] = user
            arrived = presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            await ws.send_text(json.dumps(roster))
            left = (await deliver(room, {"type": "join", "room": room, "user": user})
                    if arrived else [])
        if arrived:
            await bus.emit("chat.joined", {"room": room, "user": user})
        await emit_left(room, left)
        try:
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    return
                try:
                    cmd = parse_frame(msg)
                except ValueError as exc:
                    await answer(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if cmd["type"] == "ping":
                    await answer(ws, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": cmd["text"]})
        except WebSocketDisconnect:
            return
        finally:
            async with rs.lock:
                owner.pop(ws, None)
                left = [user] if presence.leave(room, user, ws) else []
                if left:
                    left += await deliver(room, {"type": "leave", "room": room, "user": user})
            await emit_left(room, left)

    return app
