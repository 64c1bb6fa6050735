"""Style: (user, conn) pair sets per room, a character-set name check, TaskGroup sends and a Room dataclass per room."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import string
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return 1 <= len(value) <= 32 and all(ch in _NAME_CHARS for ch in value)


def _decode(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("the frame nests too deeply to be read as JSON") from None
    except ValueError:
        raise ValueError("the frame is not JSON") from None


def _message_text(data: dict[str, Any]) -> str:
    if "text" not in data:
        raise ValueError("a message frame needs a 'text' field")
    body = data["text"]
    if not isinstance(body, str):
        raise ValueError(f"'text' must be a string, not {type(body).__name__}")
    if not body:
        raise ValueError("'text' is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"'text' has {len(body)} characters, more than {MAX_TEXT}")
    return body


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frame: only JSON text frames are understood")
    data = _decode(text)
    if not isinstance(data, dict):
        raise ValueError("the frame is JSON but not an object")
    kind = data.get("type")
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if isinstance(kind, str) and kind == "message":
        return {"type": "message", "text": _message_text(data)}
    if kind is None and "type" not in data:
        raise ValueError("the frame has no 'type'")
    raise ValueError(f"unknown 'type' (a {type(kind).__name__}): expected 'message' or 'ping'")


class Presence:
    """room -> set of (user, conn) pairs; a user is present while one pair of theirs is."""

    def __init__(self) -> None:
        self._pairs: dict[str, set[tuple[str, Hashable]]] = {}
        self._tabs: dict[tuple[str, str], int] = {}  # (room, user) -> open connections

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        pairs = self._pairs.setdefault(room, set())
        if (user, conn) in pairs:
            return False
        pairs.add((user, conn))
        before = self._tabs.get((room, user), 0)
        self._tabs[(room, user)] = before + 1
        return before == 0

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        pairs = self._pairs.get(room)
        if not pairs or (user, conn) not in pairs:
            return False
        pairs.discard((user, conn))
        if not pairs:
            del self._pairs[room]
        left = self._tabs[(room, user)] - 1
        if left:
            self._tabs[(room, user)] = left
            return False
        del self._tabs[(room, user)]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted({user for user, _ in self._pairs.get(room, ())})

    def connections(self, room: str) -> list[Hashable]:
        return [conn for _, conn in self._pairs.get(room, ())]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = tuple(conns)
    text = json.dumps(frame)
    ok = [False] * len(snapshot)

    async def one(i: int, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return  # raised or timed out (TimeoutError): a failure, and nobody else's problem
        ok[i] = True

    async with asyncio.TaskGroup() as group:
        for i, conn in enumerate(snapshot):
            group.create_task(one(i, conn))
    return [conn for conn, sent in zip(snapshot, ok) if not sent]


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    names: dict[WebSocket, str] = {}

    def room_state(name: str) -> Room:
        state = rooms.get(name)
        if state is None:
            state = rooms[name] = Room()
        return state

    def drop(room: str, ws: WebSocket) -> str | None:
        user = names.get(ws)
        if user is None:
            return None
        return user if presence.leave(room, user, ws) else None

    async def close_dead(ws: WebSocket) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(1011), send_timeout)

    async def publish(room: str, frame: dict[str, Any]) -> None:
        state = room_state(room)
        async with state.lock:
            if frame["type"] == "message":
                state.seq += 1
                frame["seq"] = state.seq
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        gone = []
        for ws in failed:
            user = drop(room, ws)
            if user is not None:
                gone.append(user)
        for user in gone:
            await leave(room, user)
        if failed:
            await asyncio.gather(*map(close_dead, failed))

    async def leave(room: str, user: str) -> None:
        await bus.emit("chat.left", {"room": room, "user": user})
        await publish(room, {"type": "leave", "room": room, "user": user})

    @bus.on("room.message")
    async def on_room_message(payload: dict[str, Any]) -> None:
        await publish(payload["room"], {"type": "message", "room": payload["room"],
                                        "user": payload["user"], "text": payload["text"]})

    async def bad_frame(ws: WebSocket, room: str, user: str, why: str) -> None:
        await bus.emit("ws.error", {"room": room, "user": user, "error": why})
        await ws.send_json({"type": "error", "code": "bad_frame", "message": why})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            what = "room" if not valid_name(room) else "user"
            with contextlib.suppress(Exception):
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": f"the {what} name must be 1-32 characters "
                                               "of A-Z a-z 0-9 _ . -"})
                await ws.close(BAD_REQUEST_CLOSE)
            return
        names[ws] = user
        try:
            state = room_state(room)
            async with state.lock:
                first_tab = presence.join(room, user, ws)
                await asyncio.wait_for(
                    ws.send_json({"type": "roster", "room": room,
                                  "users": presence.roster(room)}), send_timeout)
            if first_tab:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await publish(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await bad_frame(ws, room, user, str(exc))
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        except TimeoutError:
            await close_dead(ws)
        finally:
            gone = drop(room, ws)
            if gone is not None:
                await leave(room, gone)
            names.pop(ws, None)

    return app
