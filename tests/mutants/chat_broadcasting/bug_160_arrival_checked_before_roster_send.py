"""Bug: whether the user is arriving is decided before the roster send is awaited, and the tab is only added to presence after it, so two tabs of one user opening together both announce a join.

Breaks: "A second tab of the same user is **not** a second user: no join when it opens, no leave when it closes while another tab is open" ... ann opens two tabs at the same moment: both see her absent, both await their roster send, and the room gets two join frames and two chat.joined for ann.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Hashable, Iterable
import re
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
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        conns = users.get(user) if users else None
        if not conns or conn not in conns:
            return False
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


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> None:
        await conn.send_text(text)

    outcomes = await asyncio.gather(
        *(asyncio.wait_for(one(c), timeout) for c in members), return_exceptions=True
    )
    return [c for c, o in zip(members, outcomes) if isinstance(o, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    owner: dict[Any, str] = {}
    seqs: defaultdict[str, int] = defaultdict(int)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    closing: set[asyncio.Task[Any]] = set()

    async def close_quietly(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Broadcast under the room's lock; drop the failed members together."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        gone = [owner[c] for c in failed if presence.leave(room, owner[c], c)]
        for conn in failed:
            task = asyncio.create_task(close_quietly(conn))
            closing.add(task)
            task.add_done_callback(closing.discard)
        for user in gone:
            await events.emit("chat.left", {"room": room, "user": user})
            await deliver(room, {"type": "leave", "room": room, "user": user})

    @events.on("room.message")
    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with locks[room]:
            seqs[room] += 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await deliver(room, frame)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"missing or invalid {what} name"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        owner[ws] = user
        try:
            arrived = user not in presence.roster(room)
            users = sorted(set(presence.roster(room)) | {user})
            await ws.send_text(json.dumps({"type": "roster", "room": room, "users": users}))
            presence.join(room, user, ws)  # only once the roster went through
            async with locks[room]:
                if arrived:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await deliver(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with locks[room]:
                if presence.leave(room, user, ws):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await deliver(room, {"type": "leave", "room": room, "user": user})
            owner.pop(ws, None)

    return app
