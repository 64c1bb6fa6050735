"""Bug: an invalid room is refused as not found, code not_found and close 4404.

Breaks: "If `room` or `user` is missing or invalid, send
{"type": "error", "code": "bad_request", "message": ...} and close with code 4400"
(and the close-code table: 4400 for a bad room or user name at connect).
"""

from __future__ import annotations

import asyncio
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
ROOM_NOT_FOUND_CLOSE = 4404


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a ping or message command, else ValueError."""
    raw = message.get("text") if isinstance(message, dict) else None
    if not isinstance(raw, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    if "type" not in data:
        raise ValueError("the frame has no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError(f"unknown type {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} characters long; at most {MAX_TEXT} are allowed")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users:
            return False
        conns = users.get(user)
        if not conns or conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send frame to a snapshot of conns side by side; return the failed members."""
    snapshot = list(conns)
    text = json.dumps(frame)

    async def send_one(conn: Any) -> None:
        await asyncio.wait_for(conn.send_text(text), timeout)

    outcomes = await asyncio.gather(*(send_one(c) for c in snapshot), return_exceptions=True)
    return [conn for conn, outcome in zip(snapshot, outcomes) if isinstance(outcome, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """The chat app: the /chat/{room} route and the room.message listener."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = defaultdict(int)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    owners: dict[Any, str] = {}
    closers: set[asyncio.Task[None]] = set()

    def close_later(conn: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(conn.close(code=DROPPED_CLOSE), send_timeout)
            except Exception:
                pass

        task = asyncio.get_running_loop().create_task(close())
        closers.add(task)
        task.add_done_callback(closers.discard)

    async def announce_leave(room: str, user: str) -> None:
        await events.emit("chat.left", {"room": room, "user": user})
        await send_room(room, {"type": "leave", "room": room, "user": user})

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (its lock held by the caller) and drop the failures."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        gone = []
        for conn in failed:
            user = owners.get(conn)
            if user is not None and presence.leave(room, user, conn):
                gone.append(user)
            close_later(conn)
        for user in gone:
            await announce_leave(room, user)

    async def deliver(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with locks[room]:
            seqs[room] += 1
            frame = {
                "type": "message",
                "room": room,
                "user": payload["user"],
                "text": payload["text"],
                "seq": seqs[room],
            }
            await send_room(room, frame)

    events.on("room.message", deliver)

    async def send(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            try:
                await send(ws, {"type": "error", "code": "not_found",
                                "message": f"no such room: {room!r}"[:80]})
                await ws.close(code=ROOM_NOT_FOUND_CLOSE)
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass
            return
        if not valid_name(user):
            problem = "user must be 1-32 characters of A-Z, a-z, 0-9, _ . -"
        if problem is not None:
            try:
                await send(ws, {"type": "error", "code": "bad_request", "message": problem})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass
            return
        lock = locks[room]
        owners[ws] = user
        try:
            async with lock:
                arrived = presence.join(room, user, ws)
                await send(ws, {"type": "roster", "room": room, "users": presence.roster(room)})
                if arrived:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await send_room(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await send(ws, {"type": "pong"})
                else:
                    await events.emit(
                        "room.message", {"room": room, "user": user, "text": command["text"]}
                    )
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with lock:
                if presence.leave(room, user, ws):
                    await announce_leave(room, user)
            owners.pop(ws, None)

    return app
