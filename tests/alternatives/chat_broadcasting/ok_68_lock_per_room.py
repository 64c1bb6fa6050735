"""Exercise 3: chat_broadcasting, with one asyncio.Lock per room around every room frame."""

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
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _describe(value: object) -> str:
    """A short description of a received value, safe to send back."""
    if isinstance(value, str):
        shown = repr(value[:40])
        return shown + ("..." if len(value) > 40 else "")
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text frames")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame must be a JSON object, not {_describe(data)}")
    if "type" not in data:
        raise ValueError("the frame has no 'type'")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_describe(kind)}: expected 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a 'text'")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"'text' must be a string, not {_describe(text)}")
    if len(text) == 0:
        raise ValueError("'text' is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"'text' is {len(text)} characters long, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        if users is None:
            return False
        conns = users.get(user)
        if conns is None or conn not in conns:
            return False
        conns.discard(conn)
        if conns:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def _send_one(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(_send_one(conn, text), timeout) for conn in members),
        return_exceptions=True,
    )
    return [conn for conn, outcome in zip(members, outcomes) if isinstance(outcome, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    owners: dict[Any, str] = {}  # open connection -> its user
    closing: set[asyncio.Task[None]] = set()

    def lock_for(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def close_dropped(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass  # already gone, or not even taking a close frame

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        """Broadcast ``frame`` to the room (its lock held); drop whoever fails, and say so."""
        frames = [frame]
        while frames:
            failed = await broadcast(presence.connections(room), frames.pop(0), timeout=send_timeout)
            gone = []
            for conn in failed:  # forget every dropped member first ...
                user = owners.pop(conn, None)
                if user is not None and presence.leave(room, user, conn):
                    gone.append(user)
            for conn in failed:
                task = asyncio.ensure_future(close_dropped(conn))
                closing.add(task)
                task.add_done_callback(closing.discard)
            for user in gone:  # ... then announce their leaves
                await bus.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock_for(room):
            seq = seqs.get(room, 0) + 1
            seqs[room] = seq
            frame = {
                "type": "message",
                "room": room,
                "user": payload["user"],
                "text": payload["text"],
                "seq": seq,
            }
            await send_room(room, frame)

    bus.on("room.message", on_message)

    async def enter(room: str, user: str, ws: WebSocket) -> bool:
        async with lock_for(room):
            arrived = presence.join(room, user, ws)
            owners[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            try:
                await asyncio.wait_for(ws.send_text(json.dumps(roster)), send_timeout)
            except Exception:
                owners.pop(ws, None)
                presence.leave(room, user, ws)
                return False
            if arrived:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def depart(room: str, user: str, ws: WebSocket) -> None:
        async with lock_for(room):
            if owners.pop(ws, None) is None:
                return  # dropped already: its leave went out then
            if presence.leave(room, user, ws):
                await bus.emit("chat.left", {"room": room, "user": user})
                await send_room(room, {"type": "leave", "room": room, "user": user})

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
        except Exception:
            return False
        return True

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if room is None or room == "":
            problem = "the room is missing"
        elif not valid_name(room):
            problem = "the room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif user is None:
            problem = "the user is missing: connect with ?user=NAME"
        elif not valid_name(user):
            problem = "the user must be 1-32 characters of [A-Za-z0-9_.-]"
        if problem is not None:
            try:
                await ws.send_text(
                    json.dumps({"type": "error", "code": "bad_request", "message": problem})
                )
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            if not await enter(room, user, ws):
                return
        except WebSocketDisconnect:
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    sent = await reply(ws, {"type": "error", "code": "bad_frame", "message": error})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": error})
                    if not sent:
                        break
                    continue
                if command["type"] == "ping":
                    if not await reply(ws, {"type": "pong"}):
                        break
                else:
                    await bus.emit(
                        "room.message", {"room": room, "user": user, "text": command["text"]}
                    )
        except (WebSocketDisconnect, RuntimeError):
            pass  # gone, or closed by a drop
        finally:
            await depart(room, user, ws)

    return app
