"""BUG since the text now decides it (issue 14): any JSON string of 1-2000 characters is a valid text, lone surrogates included, relayed escaped; this one drops the whole room.
Written when it was open, as AMBIGUOUS: broadcast serialises with
``json.dumps(frame, ensure_ascii=False)`` (what Nexios' ``send_json`` does). For
ordinary text this is only a different spelling of the same JSON. But a message
whose text holds a lone surrogate (the client sent the JSON escape ``"\\ud800"``)
then cannot be encoded as UTF-8 by the server: every member's send fails, so the
whole room, sender included, is dropped.

The text says `T` "is a non-empty string of at most 2000 characters" and that
parse_frame must never raise anything but ValueError "whatever the frame holds";
it says nothing about lone surrogates (valid JSON grammar, not valid Unicode
text). The ok_ variants escape them (``ensure_ascii=True``) and relay the message.
"""

from __future__ import annotations

import asyncio
import contextlib
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
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or
    ``{"type": "message", "text": T}``, else ValueError (and nothing else)."""
    text = message.get("text") if isinstance(message, dict) else None
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    if not isinstance(text, str):
        raise ValueError("a frame must be text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError("unknown type")
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError("text must be a string")
    if not body:
        raise ValueError("text is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": body}


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
        if users is None or conn not in users.get(user, ()):
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


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame, ensure_ascii=False)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(m.send_text(text), timeout) for m in members),
        return_exceptions=True,
    )
    return [m for m, outcome in zip(members, outcomes) if isinstance(outcome, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    owners: dict[Any, str] = {}  # connection -> its user
    locks: dict[str, asyncio.Lock] = {}
    seqs: dict[str, int] = {}  # kept for as long as the server runs

    def lock(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    async def close_quietly(conn: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(conn.close(1011), send_timeout)

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Broadcast under the room's lock; drop failed members and announce their leave."""
        frames = [frame]
        while frames:
            failed = await broadcast(presence.connections(room), frames.pop(0), timeout=send_timeout)
            for conn in failed:
                user = owners.get(conn)
                if user is not None and presence.leave(room, user, conn):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    frames.append({"type": "leave", "room": room, "user": user})
                await close_quietly(conn)

    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            await deliver(room, {"type": "message", "room": room, "user": msg["user"],
                                 "text": msg["text"], "seq": seqs[room]})

    bus.on("room.message", relay)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif user is None:
            problem = "user is missing"
        elif not valid_name(user):
            problem = "user must be 1-32 characters of [A-Za-z0-9_.-]"
        if problem is not None:
            with contextlib.suppress(Exception):
                await ws.send_json({"type": "error", "code": "bad_request", "message": problem})
                await ws.close(BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with lock(room):
                arrived = presence.join(room, user, ws)
                owners[ws] = user
                joined = True
                await asyncio.wait_for(
                    ws.send_text(json.dumps({"type": "roster", "room": room,
                                             "users": presence.roster(room)})),
                    send_timeout)
                if arrived:
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await deliver(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await bus.emit("room.message", {"room": room, "user": user,
                                                    "text": command["text"]})
        except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
            pass  # a goodbye, a dead socket, or one we closed: a leave, not an error
        finally:
            if joined:
                async with lock(room):
                    if presence.leave(room, user, ws):
                        await bus.emit("chat.left", {"room": room, "user": user})
                        await deliver(room, {"type": "leave", "room": room, "user": user})
                owners.pop(ws, None)

    return app
