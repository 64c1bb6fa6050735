"""Bug: a member dropped by a broadcast is only marked; its own handler closes it with 1011 when its next frame arrives, so a dropped member that sends nothing more is never closed.

Breaks: "a member that does not take the frame in time, or whose send raises, is **dropped**: it leaves as if it had closed ..., the server closes it (code 1011, if it still can: a member that stalled can be closed, one whose send raised is already gone)" ... bob stops reading and is dropped by ann's message after `send_timeout`; his leave is announced, but bob's socket stays open with no close frame (no 1011) for as long as he stays silent.
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


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError(f"unknown type {_short(kind)}")
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError("text must be a string")
    if not body:
        raise ValueError("text must not be empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": body}


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
        if not users or conn not in users.get(user, ()):
            return False
        conns = users[user]
        conns.discard(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def _send_one(conn: Any, text: str, timeout: float) -> bool:
    try:
        await asyncio.wait_for(conn.send_text(text), timeout)
        return True
    except Exception:
        return False


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    members = list(conns)
    text = json.dumps(frame)
    results = await asyncio.gather(*(_send_one(c, text, timeout) for c in members))
    return [c for c, ok in zip(members, results) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    owners: dict[Any, str] = {}
    locks: dict[str, asyncio.Lock] = {}
    seqs: dict[str, int] = {}
    doomed: set[Any] = set()  # dropped members: their own handler closes them (one writer per socket)

    def lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def announce(room: str, frame: dict[str, Any]) -> None:
        """Broadcast under the room's lock; drop failures, announce their leaves."""
        pending = [frame]
        while pending:
            failed = await broadcast(presence.connections(room), pending.pop(0),
                                     timeout=send_timeout)
            gone = []
            for ws in failed:
                user = owners.get(ws)
                if user is not None and presence.leave(room, user, ws):
                    gone.append(user)
                doomed.add(ws)
            for user in gone:
                await events.emit("chat.left", {"room": room, "user": user})
                pending.append({"type": "leave", "room": room, "user": user})

    @events.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            await announce(room, {"type": "message", "room": room, "user": msg["user"],
                                  "text": msg["text"], "seq": seqs[room]})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = f"invalid room name {_short(room)}"
        elif user is None:
            problem = "missing user"
        elif not valid_name(user):
            problem = f"invalid user name {_short(user)}"
        if problem is not None:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        owners[ws] = user
        async with lock(room):
            try:
                await asyncio.wait_for(ws.send_text(json.dumps(
                    {"type": "roster", "room": room,
                     "users": sorted({*presence.roster(room), user})})), send_timeout)
            except Exception:
                owners.pop(ws, None)
                return
            if presence.join(room, user, ws):
                await events.emit("chat.joined", {"room": room, "user": user})
                await announce(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                if ws in doomed:  # dropped by a broadcast meanwhile: close it now
                    try:
                        await asyncio.wait_for(ws.close(1011), send_timeout)
                    except Exception:
                        pass
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"room": room, "user": user,
                                                   "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await events.emit("room.message", {"room": room, "user": user,
                                                       "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with lock(room):
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await announce(room, {"type": "leave", "room": room, "user": user})
            owners.pop(ws, None)
            doomed.discard(ws)

    return app
