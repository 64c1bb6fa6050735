"""Bug: a ping is answered by broadcasting the pong to the whole room (every connection gets it), not only to the connection that pinged.

Breaks: "`{"type": "ping"}` is answered with `{"type": "pong"}`." (the notebook's table: "you: pong"; the protocol sends it to the sender only).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError("text must be a string")
    if not body:
        raise ValueError("text is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": body}


class Presence:
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
        if not users or conn not in users.get(user, ()):
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
    snapshot = list(conns)
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(c.send_text(text), timeout) for c in snapshot),
        return_exceptions=True,
    )
    return [c for c, o in zip(snapshot, outcomes) if isinstance(o, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    locks: dict[str, asyncio.Lock] = {}
    seqs: dict[str, int] = {}
    user_of: dict[Any, str] = {}

    def lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_quietly(ws: Any, code: int) -> None:
        try:
            await asyncio.wait_for(ws.close(code=code), send_timeout)
        except Exception:
            pass

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        # caller holds the room's lock
        dropped = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        while dropped:
            gone = []
            for ws in dropped:
                user = user_of.get(ws)
                if user is not None and presence.leave(room, user, ws):
                    gone.append(user)
            for ws in dropped:
                await close_quietly(ws, 1011)
            dropped = []
            for user in gone:
                await bus.emit("chat.left", {"room": room, "user": user})
                dropped += await broadcast(
                    presence.connections(room),
                    {"type": "leave", "room": room, "user": user},
                    timeout=send_timeout,
                )
            # members dropped while announcing go round again
            dropped = list(dict.fromkeys(dropped))

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await send_room(room, frame)

    bus.on("room.message", on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": f"missing or invalid {what} name"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        user_of[ws] = user
        try:
            async with lock(room):
                arrived = presence.join(room, user, ws)
                await ws.send_text(json.dumps(
                    {"type": "roster", "room": room, "users": presence.roster(room)}))
                if arrived:
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await send_room(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    async with lock(room):
                        await send_room(room, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        except Exception:
            pass
        finally:
            async with lock(room):
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await send_room(room, {"type": "leave", "room": room, "user": user})
            user_of.pop(ws, None)

    return app
