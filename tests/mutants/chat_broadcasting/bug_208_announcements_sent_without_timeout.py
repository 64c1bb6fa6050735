"""Bug: Only message broadcasts give each send its send_timeout: join and leave announcements go to the room through a plain gather that drops a member whose send raises but waits without limit on one that stopped reading, with the room's lock held.

Breaks: "give **each send its own timeout** (`send_timeout` seconds, given to `create_app`): a
member that does not take the frame in time, or whose send raises, is **dropped**" and
"a member dropped by the broadcast of another one's leave is dropped and closed the same
way" ... ann is in lobby and bob stops reading after his roster and join; when cy
connects, the join broadcast waits on bob forever: bob is never dropped, nobody gets his
leave, and every later frame of the room (ann's next message) waits behind the held
lock. The timeout was read as part of "A broadcast must survive members leaving, dying
or stalling while it runs", i.e. of the message broadcast alone.
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

    async def announce(room: str, frame: dict[str, Any]) -> list[Any]:
        """A join or leave to the whole room; returns the members whose send raised."""
        conns = presence.connections(room)
        text = json.dumps(frame)
        results = await asyncio.gather(*(c.send_text(text) for c in conns),
                                       return_exceptions=True)
        return [c for c, r in zip(conns, results) if isinstance(r, BaseException)]

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Send under the room's lock: a message goes through ``broadcast`` with
        send_timeout per member, joins and leaves through ``announce``; whoever fails
        is dropped, and their leaves are announced after they are all forgotten."""
        todo = [frame]
        while todo:
            frame = todo.pop(0)
            if frame["type"] == "message":
                failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
            else:
                failed = await announce(room, frame)
            for user in drop(room, failed):
                await bus.emit("chat.left", {"room": room, "user": user})
                todo.append({"type": "leave", "room": room, "user": user})

    async def send_one(room: str, ws: Any, frame: dict[str, Any]) -> bool:
        """One frame to one member, under the room's lock; a failure drops it."""
        async with locks[room]:
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
        async with locks[room]:
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
            async with locks[room]:
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
            async with locks[room]:
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await deliver(room, {"type": "leave", "room": room, "user": user})
            owners.pop(ws, None)
            dropped.discard(ws)

    return app
