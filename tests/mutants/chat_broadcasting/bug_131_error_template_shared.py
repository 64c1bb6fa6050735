"""Bug: error frames are built by updating one module-level template dict instead of a copy, so after the first refused connection (`code="bad_request"`) every later `bad_frame` error goes out with code `"bad_request"`.

Breaks: "the sender gets `{"type": "error", "code": "bad_frame", "message": "<what was wrong>"}`" ... someone connects with `?user=a%20b` (refused with 4400, correctly); afterwards ann, properly connected, sends `"not json"` and gets `{"type": "error", "code": "bad_request", ...}` instead of `bad_frame`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_ERROR = {"type": "error", "code": "bad_frame", "message": ""}


def error_frame(message: str, **override: str) -> dict[str, Any]:
    """An error frame: bad_frame unless told otherwise."""
    frame = _ERROR
    frame.update(override, message=message)
    return frame


def room_frame(kind: str, room: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "room": room, **fields}


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame is not a JSON object")
    if "type" not in data:
        raise ValueError("frame has no type")
    kind = data["type"]
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError(f"unknown type: {repr(kind)[:40]}")
    if "text" not in data:
        raise ValueError("message has no text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError("text is not a string")
    if len(text) == 0 or len(text) > MAX_TEXT:
        raise ValueError(f"text must have 1 to {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._rooms.setdefault(room, {})
        tabs = users.get(user)
        if tabs:
            tabs.add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        tabs = self._rooms.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._rooms[room][user]
        if not self._rooms[room]:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def _one(conn: Any, text: str, timeout: float) -> bool:
    try:
        await asyncio.wait_for(conn.send_text(text), timeout=timeout)
        return True
    except Exception:
        return False


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    targets = list(conns)
    text = json.dumps(frame)
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(_one(conn, text, timeout)) for conn in targets]
    return [conn for conn, task in zip(targets, tasks) if not task.result()]


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    user_of: dict[Any, str] = {}
    dropped: set[Any] = set()
    closers: set[asyncio.Task[None]] = set()

    def room_state(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room()
        return rooms[name]

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    async def send_one(ws: Any, frame: dict[str, Any]) -> bool:
        return not await broadcast([ws], frame, timeout=send_timeout)

    async def to_room(name: str, frame: dict[str, Any]) -> None:
        """Lock held. Send; drop who failed (all of them first), then announce their leaves."""
        pending = [frame]
        while pending:
            failed = await broadcast(presence.connections(name), pending.pop(0), timeout=send_timeout)
            left = []
            for ws in failed:
                dropped.add(ws)
                user = user_of.get(ws)
                if user is not None and presence.leave(name, user, ws):
                    left.append(user)
                task = asyncio.create_task(close_1011(ws))
                closers.add(task)
                task.add_done_callback(closers.discard)
            for user in left:
                await events.emit("chat.left", {"room": name, "user": user})
                pending.append(room_frame("leave", name, user=user))

    @events.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        state = room_state(msg["room"])
        async with state.lock:
            state.seq += 1
            await to_room(msg["room"], room_frame("message", msg["room"], user=msg["user"],
                                                  text=msg["text"], seq=state.seq))

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
                await ws.send_text(json.dumps(error_frame(problem, code="bad_request")))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        state = room_state(room)
        user_of[ws] = user
        try:
            async with state.lock:
                joined = presence.join(room, user, ws)
                if not await send_one(ws, room_frame("roster", room, users=presence.roster(room))):
                    presence.leave(room, user, ws)
                    return
                if joined:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await to_room(room, room_frame("join", room, user=user))
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws in dropped:
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await send_one(ws, error_frame(str(exc))):
                        break
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    if not await send_one(ws, {"type": "pong"}):
                        break
                else:
                    await events.emit("room.message", {"room": room, "user": user,
                                                       "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with state.lock:
                user_of.pop(ws, None)
                dropped.discard(ws)
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await to_room(room, room_frame("leave", room, user=user))

    return app
