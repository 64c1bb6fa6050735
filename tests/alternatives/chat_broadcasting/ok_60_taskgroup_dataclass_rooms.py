"""CORRECT variant: rooms as dataclasses holding their own lock, an itertools
counter for seq and the tab -> user map; broadcast on ``asyncio.TaskGroup`` with
each member's send wrapped so that its failure is a value; Presence as nested
dicts of lists; parse_frame with ``match``.

Rules kept: roster under the room lock; join after roster; seq per room from 1,
never reset, taken under the lock; message frame built as a new dict; snapshot
broadcast, one timeout per send, a timed-out send cancelled; dropped members
forgotten together, then their leaves, then closed 1011 (bounded); bad frames
answered to the sender only; normal disconnect silent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

MAX_TEXT = 2000
NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")  # kept for the stub's shape; names are checked below
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0
_OK = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) < 33 and set(value) <= _OK


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("a binary frame is not a chat frame")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    match data:
        case {"type": "ping"}:
            return {"type": "ping"}
        case {"type": "message", "text": str() as body} if 0 < len(body) <= MAX_TEXT:
            return {"type": "message", "text": body}
        case {"type": "message", "text": str()}:
            raise ValueError("'text' must be 1-2000 characters")
        case {"type": "message"}:
            raise ValueError("'text' must be a string")
        case dict():
            raise ValueError(f"'type' {data.get('type')!r:.40} is not 'message' or 'ping'")
        case _:
            raise ValueError("the frame is not a JSON object")


class Presence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, list[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, [])
        tabs.append(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.get(room, {}).get(user, [])
        if conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._rooms[room][user]
        if not self._rooms[room]:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        return list(itertools.chain.from_iterable(self._rooms.get(room, {}).values()))


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    members = list(conns)
    data = json.dumps(frame)
    failed = [False] * len(members)

    async def send(i: int, conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(data)
        except Exception:
            failed[i] = True

    async with asyncio.TaskGroup() as tg:
        for i, conn in enumerate(members):
            tg.create_task(send(i, conn))
    return [conn for conn, bad in zip(members, failed) if bad]


@dataclass
class _Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    counter: itertools.count = field(default_factory=lambda: itertools.count(1))
    owners: dict[Any, str] = field(default_factory=dict)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, _Room] = {}

    def room_of(name: str) -> _Room:
        return rooms.setdefault(name, _Room())

    def forget(name: str, ws: Any) -> str | None:
        user = room_of(name).owners.get(ws)
        if user is None or not presence.leave(name, user, ws):
            return None
        return user

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    async def send(name: str, frame: dict[str, Any]) -> None:
        state = room_of(name)
        async with state.lock:
            if frame["type"] == "message":
                frame = {**frame, "seq": next(state.counter)}
            dropped = await broadcast(presence.connections(name), frame, timeout=send_timeout)
        leavers = [u for ws in dropped if (u := forget(name, ws)) is not None]
        for u in leavers:
            await bus.emit("chat.left", {"room": name, "user": u})
            await send(name, {"type": "leave", "room": name, "user": u})
        if dropped:
            await asyncio.gather(*(close_1011(ws) for ws in dropped))

    @bus.on("room.message")
    async def on_message(event: dict[str, str]) -> None:
        await send(event["room"], {"type": "message", "room": event["room"],
                                   "user": event["user"], "text": event["text"]})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = []
        if not valid_name(name):
            problems.append("room")
        if not valid_name(user):
            problems.append("user")
        if problems:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": f"invalid {' and '.join(problems)}"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        state = room_of(name)
        state.owners[ws] = user
        try:
            async with state.lock:
                new_user = presence.join(name, user, ws)
                await asyncio.wait_for(ws.send_text(json.dumps(
                    {"type": "roster", "room": name, "users": presence.roster(name)})),
                    send_timeout)
            if new_user:
                await bus.emit("chat.joined", {"room": name, "user": user})
                await send(name, {"type": "join", "room": name, "user": user})
            while (msg := await ws.receive())["type"] == "websocket.receive":
                try:
                    cmd = parse_frame(msg)
                except ValueError as exc:
                    why = str(exc)
                    await bus.emit("ws.error", {"room": name, "user": user, "error": why})
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": why})
                    continue
                if cmd["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                    continue
                await bus.emit("room.message", {"room": name, "user": user, "text": cmd["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            left = forget(name, ws)
            if left is not None:
                await bus.emit("chat.left", {"room": name, "user": left})
                await send(name, {"type": "leave", "room": name, "user": left})
            state.owners.pop(ws, None)

    return app
