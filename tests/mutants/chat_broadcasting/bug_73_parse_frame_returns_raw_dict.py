"""Bug: parse_frame returns the decoded JSON object itself, extra fields and all, instead of a clean command.

Breaks: "one received frame -> {"type": "ping"} or {"type": "message", "text": T}" and
"Fields of a frame other than type and text are ignored."
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    if type(value) is not str or not 1 <= len(value) <= 32:
        return False
    return all(ch in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
               for ch in value)


def _describe(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f"a JSON {type(value).__name__}"
    return repr(value)[:40]


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command, or ValueError (and nothing else)."""
    raw = message.get("text")
    if raw is None or not isinstance(raw, str):
        raise ValueError("binary frame")
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    except RecursionError:
        raise ValueError("not JSON (nested too deeply)") from None
    if type(data) is not dict:
        raise ValueError("not a JSON object")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if kind == "ping" and type(kind) is str:
        return data
    if not (type(kind) is str and kind == "message"):
        raise ValueError(f"unknown type {_describe(kind)}")
    if "text" not in data:
        raise ValueError("missing text")
    body = data["text"]
    if type(body) is not str:
        raise ValueError(f"text must be a string, not {_describe(body)}")
    if len(body) == 0:
        raise ValueError("empty text")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text has {len(body)} characters, more than {MAX_TEXT}")
    return data


class Presence:
    """room -> user -> set of that user's open connections."""

    def __init__(self) -> None:
        self._by_room: defaultdict[str, dict[str, set[Hashable]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._by_room[room]
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._by_room.get(room, {})
        conns = users.get(user, set())
        if conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        del users[user]
        if not users:
            self._by_room.pop(room, None)
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._by_room.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for conns in self._by_room.get(room, {}).values():
            out.extend(conns)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send to a snapshot side by side, each send bounded; return the failed members."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(m.send_text(text)) for m in members]
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    failed = []
    for member, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(member)
    return failed


@dataclass
class Room:
    name: str
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    owner: dict[Any, str] = {}
    closing: set[asyncio.Task[None]] = set()

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room(name)
        return rooms[name]

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    async def send_room(name: str, frame: dict[str, Any]) -> None:
        # caller holds the room's lock
        failed = await broadcast(presence.connections(name), frame, timeout=send_timeout)
        departed = [owner.get(ws, "") for ws in failed
                    if presence.leave(name, owner.get(ws, ""), ws)]
        for ws in failed:
            task = asyncio.ensure_future(close_1011(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        for user in departed:
            await left(name, user)

    async def left(name: str, user: str) -> None:
        await events.emit("chat.left", {"room": name, "user": user})
        await send_room(name, {"type": "leave", "room": name, "user": user})

    async def on_room_message(payload: dict[str, Any]) -> None:
        room = room_of(payload["room"])
        async with room.lock:
            room.seq += 1
            await send_room(room.name, {"type": "message", "room": room.name,
                                        "user": payload["user"], "text": payload["text"],
                                        "seq": room.seq})

    events.on("room.message", on_room_message)

    async def tell(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for label, value in (("room", name), ("user", user)):
            if not valid_name(value):
                try:
                    await tell(ws, {"type": "error", "code": "bad_request",
                                    "message": f"missing or invalid {label}"})
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        room = room_of(name)
        owner[ws] = user
        try:
            async with room.lock:
                first = presence.join(name, user, ws)
                await tell(ws, {"type": "roster", "room": name, "users": presence.roster(name)})
                if first:
                    await events.emit("chat.joined", {"room": name, "user": user})
                    await send_room(name, {"type": "join", "room": name, "user": user})
            while True:
                msg = await ws.receive()
                if msg.get("type") == "websocket.disconnect":
                    return
                try:
                    cmd = parse_frame(msg)
                except ValueError as exc:
                    await tell(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                if cmd["type"] == "ping":
                    await tell(ws, {"type": "pong"})
                    continue
                await events.emit("room.message",
                                  {"room": name, "user": user, "text": cmd["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        finally:
            async with room.lock:
                if presence.leave(name, user, ws):
                    await left(name, user)
            owner.pop(ws, None)

    return app
