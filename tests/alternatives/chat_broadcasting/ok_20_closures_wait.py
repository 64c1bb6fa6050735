"""Correct solution, closure style: create_app keeps its state in local dicts and nested functions.

Why it is correct: broadcast starts one task per member of a copied list and waits
for them with asyncio.wait and one timeout (the sends run side by side, so each is
bounded by it), cancels the ones still pending and reports them with the ones that
raised; an empty room returns an empty list. A per-room asyncio.Lock covers
'next seq, broadcast, drop'; the drop forgets every failed member first, then closes
them with 1011, then announces each leave (which may drop more, the same way).
Every app has its own state, created inside create_app.
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
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _quote(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ping or message command, else ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("message has no text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> set of that user's open connections."""

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
        if not users:
            return False
        conns = users.get(user)
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
    """Send frame to a snapshot of conns side by side; return the members that failed."""
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
    failed.update(t for t in done if t.cancelled() or t.exception() is not None)
    return [m for t, m in tasks.items() if t in failed]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with app.events and the /chat/{room} route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    owner: dict[Any, tuple[str, str]] = {}
    locks: dict[str, asyncio.Lock] = {}
    last_seq: dict[str, int] = {}

    def lock_of(room: str) -> asyncio.Lock:
        if room not in locks:
            locks[room] = asyncio.Lock()
        return locks[room]

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        left = [owner[c][1] for c in failed
                if c in owner and presence.leave(room, owner[c][1], c)]
        for conn in failed:
            try:
                await conn.close(code=1011)
            except Exception:
                pass
        for user in left:
            await announce_leave(room, user)

    async def announce_leave(room: str, user: str) -> None:
        await events.emit("chat.left", {"room": room, "user": user})
        await send_room(room, {"type": "leave", "room": room, "user": user})

    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock_of(room):
            last_seq[room] = last_seq.get(room, 0) + 1
            await send_room(room, {"type": "message", "room": room, "user": payload["user"],
                                   "text": payload["text"], "seq": last_seq[room]})

    events.on("room.message", relay)

    async def refuse(ws: WebSocket, why: str) -> None:
        try:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": why}))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass

    async def handle(ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                               "message": str(exc)}))
                await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                await ws.send_text(json.dumps({"type": "pong"}))
                continue
            await events.emit("room.message",
                              {"room": room, "user": user, "text": command["text"]})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):
            await refuse(ws, "room must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        if not valid_name(user):
            await refuse(ws, "user must be 1-32 characters of A-Z a-z 0-9 _ . -")
            return
        owner[ws] = (room, user)
        try:
            async with lock_of(room):
                arrived = presence.join(room, user, ws)
                try:
                    await ws.send_text(json.dumps(
                        {"type": "roster", "room": room, "users": presence.roster(room)}))
                except (WebSocketDisconnect, OSError, RuntimeError):
                    presence.leave(room, user, ws)  # gone before its roster: never announced
                    owner.pop(ws, None)
                    return
                if arrived:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await send_room(room, {"type": "join", "room": room, "user": user})
            await handle(ws, room, user)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            async with lock_of(room):
                if presence.leave(room, user, ws):
                    await announce_leave(room, user)
            owner.pop(ws, None)

    return app
