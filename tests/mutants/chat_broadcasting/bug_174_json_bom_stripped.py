"""Bug: parse_frame strips a leading byte order mark (U+FEFF) before json.loads, so a text frame that json.loads refuses is taken as a command.

Breaks: "**not JSON**: whatever `json.loads` refuses." ... the text frame '\\ufeff{"type": "ping"}' (json.loads raises "Unexpected UTF-8 BOM") is answered with a pong instead of a bad_frame error and a ws.error, and '\\ufeff{"type": "message", "text": "hi"}' is broadcast.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed")
    try:
        data = json.loads(raw.removeprefix("\ufeff"))  # some clients prepend a BOM
    except (ValueError, RecursionError):
        raise ValueError("frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame is not a JSON object")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if kind == "message" and isinstance(kind, str):
        if "text" not in data:
            raise ValueError("message has no text")
        text = data["text"]
        if not isinstance(text, str):
            raise ValueError("text must be a string")
        if not text:
            raise ValueError("text is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"text is longer than {MAX_TEXT} characters")
        return {"type": "message", "text": text}
    if "type" not in data:
        raise ValueError("frame has no type")
    raise ValueError(f"unknown type {repr(kind)[:40]}")


class Presence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        first = not conns
        conns.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users or user not in users or conn not in users[user]:
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    members = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return False
        return True

    results = await asyncio.gather(*(one(c) for c in members))
    return [c for c, ok in zip(members, results) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    presence = Presence()
    locks: dict[str, asyncio.Lock] = {}
    seqs: dict[str, int] = {}
    users_of: dict[Any, str] = {}

    def lock_for(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_quietly(ws: Any, code: int) -> None:
        try:
            await asyncio.wait_for(ws.close(code), send_timeout)
        except Exception:
            pass

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        """Broadcast under the room lock; drop the members that failed, all together."""
        queue = [frame]
        while queue:
            failed = await broadcast(presence.connections(room), queue.pop(0),
                                     timeout=send_timeout)
            gone = [users_of[c] for c in failed if presence.leave(room, users_of[c], c)]
            for conn in failed:
                asyncio.ensure_future(close_quietly(conn, 1011))
            for user in gone:
                await app.events.emit("chat.left", {"room": room, "user": user})
                queue.append({"type": "leave", "room": room, "user": user})

    @app.events.on("room.message")
    async def on_message(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock_for(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": msg["user"],
                     "text": msg["text"], "seq": seqs[room]}
            await send_room(room, frame)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "invalid room name"
        elif user is None:
            problem = "missing user"
        elif not valid_name(user):
            problem = "invalid user name"
        if problem:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with lock_for(room):
            roster = sorted(set(presence.roster(room)) | {user})
            try:
                await ws.send_text(json.dumps({"type": "roster", "room": room, "users": roster}))
            except Exception:
                return
            users_of[ws] = user
            if presence.join(room, user, ws):
                await app.events.emit("chat.joined", {"room": room, "user": user})
                await send_room(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    try:
                        await ws.send_text(json.dumps(
                            {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    except Exception:
                        pass
                    await app.events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    try:
                        await ws.send_text(json.dumps({"type": "pong"}))
                    except Exception:
                        pass
                    continue
                await app.events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            async with lock_for(room):
                if presence.leave(room, user, ws):
                    await app.events.emit("chat.left", {"room": room, "user": user})
                    await send_room(room, {"type": "leave", "room": room, "user": user})
            users_of.pop(ws, None)

    return app
