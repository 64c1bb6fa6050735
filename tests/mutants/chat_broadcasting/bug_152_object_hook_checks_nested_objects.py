"""Bug: parse_frame validates the frame in a json.loads object_hook, which json calls for every object in the document (innermost first), so an extra field holding an object is checked as if it were a frame.

Breaks: "Fields of a frame other than `type` and `text` are ignored." ... `{"type": "message", "text": "hi", "meta": {"lang": "en"}}` gets a bad_frame error ("unknown or missing type") instead of being relayed; so does `{"type": "ping", "x": {}}`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _command(obj: dict[str, Any]) -> dict[str, Any]:
    """Turn one decoded JSON object into a command, or raise ValueError."""
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError("unknown or missing type")
    if kind == "ping":
        return {"type": "ping"}
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command, or ValueError("<what is wrong>")."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        # the hook builds the command while json decodes: one pass over the frame
        command = json.loads(raw, object_hook=_command)
    except json.JSONDecodeError:
        raise ValueError("the frame is not JSON") from None
    except RecursionError:
        raise ValueError("the frame is nested too deeply") from None
    # other ValueErrors (from _command, or a huge integer) already say what is wrong
    if not isinstance(command, dict):
        raise ValueError("the frame is not a JSON object")
    return command


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._rooms.setdefault(room, {})
        conns = users.get(user)
        if conns is None:
            users[user] = {conn}
            return True
        conns.add(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        if not users or user not in users or conn not in users[user]:
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
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members that failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> Any:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return conn
        return None

    results = await asyncio.gather(*(one(c) for c in members))
    return [c for c in results if c is not None]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    whose: dict[Any, str] = {}
    closing: set[asyncio.Task[None]] = set()

    def lock(room: str) -> asyncio.Lock:
        if room not in locks:
            locks[room] = asyncio.Lock()
        return locks[room]

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    async def announce_leaves(room: str, users: list[str]) -> None:
        for user in users:
            await app.events.emit("chat.left", {"room": room, "user": user})
            failed = await broadcast(presence.connections(room),
                                     {"type": "leave", "room": room, "user": user},
                                     timeout=send_timeout)
            await drop(room, failed)

    async def drop(room: str, failed: list[Any]) -> None:
        if not failed:
            return
        gone = []
        for ws in failed:
            user = whose.get(ws)
            if user is not None and presence.leave(room, user, ws):
                gone.append(user)
            task = asyncio.get_running_loop().create_task(close_1011(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        await announce_leaves(room, gone)

    async def send_to(room: str, ws: Any, frame: dict[str, Any]) -> None:
        async with lock(room):
            failed = await broadcast([ws], frame, timeout=send_timeout)
            await drop(room, failed)

    @app.events.on("room.message")
    async def on_message(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": msg["user"],
                     "text": msg["text"], "seq": seqs[room]}
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
            await drop(room, failed)

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
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with lock(room):
            whose[ws] = user
            joined = presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            if await broadcast([ws], roster, timeout=send_timeout):
                presence.leave(room, user, ws)
                whose.pop(ws, None)
                return
            if joined:
                await app.events.emit("chat.joined", {"room": room, "user": user})
                failed = await broadcast(presence.connections(room),
                                         {"type": "join", "room": room, "user": user},
                                         timeout=send_timeout)
                await drop(room, failed)
        try:
            while True:
                try:
                    message = await ws.receive()
                except Exception:
                    break
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    await send_to(room, ws, {"type": "error", "code": "bad_frame",
                                             "message": error})
                    await app.events.emit("ws.error", {"room": room, "user": user,
                                                       "error": error})
                    continue
                if command["type"] == "ping":
                    await send_to(room, ws, {"type": "pong"})
                else:
                    await app.events.emit("room.message", {"room": room, "user": user,
                                                           "text": command["text"]})
        finally:
            async with lock(room):
                whose.pop(ws, None)
                if presence.leave(room, user, ws):
                    await announce_leaves(room, [user])

    return app
