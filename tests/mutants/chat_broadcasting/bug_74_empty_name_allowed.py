"""Bug: valid_name accepts the empty string (star instead of a lower bound of 1).

Breaks: "`room` and `user` are 1-32 characters of `[A-Za-z0-9_.-]`" and
"If `room` or `user` is missing or invalid, send ... bad_request ... and close
with code 4400": a connection with an empty user (user= with nothing after it)
is let in as a user with an empty name, and valid_name of the empty string is True.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]*")
MAX_NAME = 32
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = frozenset({"ping", "message"})


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    if not isinstance(value, str):
        return False
    return len(value) <= MAX_NAME and NAME.fullmatch(value) is not None


def _quote(value: Any) -> str:
    shown = repr(value)
    if len(shown) > 50:
        shown = shown[:47] + "..."
    return shown


def _load(raw: str) -> Any:
    try:
        return json.loads(raw)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError:
        raise ValueError("not JSON") from None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a ping or message command, else ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: only JSON text frames are accepted")
    data = _load(raw)
    if type(data) is not dict:
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown or missing type: {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.setdefault(room, {}).setdefault(user, set())
        first = len(tabs) == 0
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self.rooms[room][user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self.rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send frame to a snapshot of conns as tasks; wait once; return the failed members."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = {asyncio.ensure_future(m.send_text(text)): m for m in members}
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    failed = set(pending)
    failed.update(t for t in done if t.exception() is not None)
    return [m for t, m in tasks.items() if t in failed]


@dataclass
class Room:
    name: str
    seq: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """The chat app: the /chat/{room} route and the room.message listener."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    who: dict[Any, str] = {}
    background: set[asyncio.Task[Any]] = set()

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room(name)
        return rooms[name]

    def spawn(coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        background.add(task)
        task.add_done_callback(background.discard)

    async def shut(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass

    async def publish(room: Room, frame: dict[str, Any]) -> None:
        dropped = await broadcast(presence.connections(room.name), frame, timeout=send_timeout)
        left = []
        for conn in dropped:
            if presence.leave(room.name, who.get(conn, ""), conn):
                left.append(who[conn])
            spawn(shut(conn))
        for user in left:
            await said_goodbye(room, user)

    async def said_goodbye(room: Room, user: str) -> None:
        await bus.emit("chat.left", {"room": room.name, "user": user})
        await publish(room, {"type": "leave", "room": room.name, "user": user})

    async def on_message(payload: dict[str, Any]) -> None:
        room = room_of(payload["room"])
        async with room.lock:
            room.seq += 1
            await publish(room, {
                "type": "message", "room": room.name, "user": payload["user"],
                "text": payload["text"], "seq": room.seq,
            })

    bus.on("room.message", on_message)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def refuse(ws: WebSocket, why: str) -> None:
        try:
            await reply(ws, {"type": "error", "code": "bad_request", "message": why})
            await ws.close(code=BAD_REQUEST_CLOSE)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    async def enter(ws: WebSocket, room: Room, user: str) -> None:
        async with room.lock:
            new_user = presence.join(room.name, user, ws)
            await reply(ws, {"type": "roster", "room": room.name,
                             "users": presence.roster(room.name)})
            if new_user:
                await bus.emit("chat.joined", {"room": room.name, "user": user})
                await publish(room, {"type": "join", "room": room.name, "user": user})

    async def serve(ws: WebSocket, room: Room, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await reply(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                await bus.emit("ws.error", {"room": room.name, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                await reply(ws, {"type": "pong"})
            else:
                await bus.emit("room.message",
                               {"room": room.name, "user": user, "text": command["text"]})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(name):
            await refuse(ws, "room must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if not valid_name(user):
            await refuse(ws, "user must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        room = room_of(name)
        who[ws] = user
        try:
            await enter(ws, room, user)
            await serve(ws, room, user)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with room.lock:
                if presence.leave(name, user, ws):
                    await said_goodbye(room, user)
            who.pop(ws, None)

    return app
