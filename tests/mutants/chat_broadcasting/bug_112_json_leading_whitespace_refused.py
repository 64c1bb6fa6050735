"""Bug: parse_frame refuses every text that does not start with "{" before calling json.loads, so a JSON object with leading whitespace is called malformed.

Breaks: "A malformed frame is one that is binary, not JSON, not a JSON object, has an unknown or missing `type`, ..." and "**not JSON**: whatever `json.loads` refuses." ... json.loads accepts whitespace around a value, so the text frame ' {"type": "ping"}' (or '\\n{"type": "message", "text": "hi"}') is a valid JSON object and should get a pong (or be relayed); here it gets a bad_frame error and a ws.error instead.
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
    # Only an object can be a command: refuse anything else before parsing it
    # (this also spares json.loads a text of 100 000 nested "[").
    if not raw.startswith("{"):
        raise ValueError("a frame must be a JSON object")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError('"type" must be "message" or "ping"')
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    if not text:
        raise ValueError('"text" must not be empty')
    if len(text) > MAX_TEXT:
        raise ValueError(f'"text" is {len(text)} characters long, the limit is {MAX_TEXT}')
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, dict[str, set[Hashable]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room].setdefault(user, set())
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None or conn not in users.get(user, ()):
            return False
        users[user].remove(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return False
        return True

    delivered = await asyncio.gather(*(send(conn) for conn in members))
    return [conn for conn, ok in zip(members, delivered) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    user_of: dict[Any, str] = {}
    seq: defaultdict[str, int] = defaultdict(int)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    closers: set[asyncio.Task[None]] = set()

    async def close_dropped(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass  # already gone

    def forget(room: str, failed: list[Any]) -> list[str]:
        gone = []
        for conn in failed:
            user = user_of.pop(conn, None)
            if user is not None and presence.leave(room, user, conn):
                gone.append(user)
            task = asyncio.ensure_future(close_dropped(conn))
            closers.add(task)
            task.add_done_callback(closers.discard)
        return gone

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        # caller holds the room's lock
        frames = [frame]
        while frames:
            failed = await broadcast(presence.connections(room), frames.pop(0),
                                     timeout=send_timeout)
            for user in forget(room, failed):
                await bus.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    @bus.on("room.message")
    async def relay(event: dict[str, Any]) -> None:
        room = event["room"]
        async with locks[room]:
            seq[room] += 1
            await deliver(room, {"type": "message", "room": room, "user": event["user"],
                                 "text": event["text"], "seq": seq[room]})

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            pass

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"{what} must be 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with locks[room]:
                first = presence.join(room, user, ws)
                user_of[ws] = user
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                if await broadcast([ws], roster, timeout=send_timeout):
                    forget(room, [ws])
                    return
                if first:
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await deliver(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await reply(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await reply(ws, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with locks[room]:
                user_of.pop(ws, None)
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await deliver(room, {"type": "leave", "room": room, "user": user})

    return app
