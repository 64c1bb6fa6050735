"""Bug: the room's lock is taken with acquire() and released only at the end of the happy path, so a tab that is gone before its roster is sent leaves that room locked for good.

Breaks: "A tab can be gone before its roster is sent: that send then raises `WebSocketDisconnect` too, and the tab is gone from the room like one that closed (no later roster lists it)." ... ann connects to lobby and is gone before her roster (the send raises): the lock stays held, her handler then waits on it forever in its clean-up, and every later connection to lobby gets no roster and no message there is ever delivered.
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
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room, {})
        conns = users.get(user)
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
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def _deliver(conn: Any, text: str, timeout: float) -> bool:
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
    delivered = await asyncio.gather(*(_deliver(conn, text, timeout) for conn in members))
    return [conn for conn, ok in zip(members, delivered) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = defaultdict(int)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    owner: dict[Any, str] = {}  # connection -> its user
    dropped: set[Any] = set()
    closing: set[asyncio.Task[None]] = set()

    async def hang_up(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    async def tell(ws: Any, frame: dict[str, Any]) -> bool:
        """Send one frame to one connection; False if it is gone or stalled."""
        return not await broadcast([ws], frame, timeout=send_timeout)

    async def announce(room: str, frame: dict[str, Any]) -> None:
        """With the room's lock held: send ``frame`` to the room; drop who failed."""
        queue = [frame]
        while queue:
            failed = await broadcast(presence.connections(room), queue.pop(0), timeout=send_timeout)
            gone = []
            for ws in failed:  # forget every dropped member first...
                dropped.add(ws)
                user = owner.get(ws)
                if user is not None and presence.leave(room, user, ws):
                    gone.append(user)
                task = asyncio.ensure_future(hang_up(ws))
                closing.add(task)
                task.add_done_callback(closing.discard)
            for user in gone:  # ...then announce their leaves
                await events.emit("chat.left", {"room": room, "user": user})
                queue.append({"type": "leave", "room": room, "user": user})

    @events.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with locks[room]:
            seqs[room] += 1
            await announce(room, {"type": "message", "room": room, "user": msg["user"],
                                  "text": msg["text"], "seq": seqs[room]})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"missing or invalid {what} name"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        owner[ws] = user
        room_lock = locks[room]
        try:
            # roster, then the join, with nobody else changing the room in between
            await room_lock.acquire()
            joined = presence.join(room, user, ws)
            await ws.send_text(json.dumps({"type": "roster", "room": room,
                                           "users": presence.roster(room)}))
            if joined:
                await events.emit("chat.joined", {"room": room, "user": user})
                await announce(room, {"type": "join", "room": room, "user": user})
            room_lock.release()
            while ws not in dropped:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws in dropped:
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await tell(ws, {"type": "error", "code": "bad_frame", "message": str(exc)}):
                        break
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    if not await tell(ws, {"type": "pong"}):
                        break
                else:
                    await events.emit("room.message", {"room": room, "user": user,
                                                       "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with room_lock:
                owner.pop(ws, None)
                dropped.discard(ws)
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await announce(room, {"type": "leave", "room": room, "user": user})

    return app
