"""Bug: after forgetting every member a broadcast dropped, the code announces a leave for each dropped connection whose user is no longer in the roster, so when two tabs of the same user are dropped by one broadcast, that user's leave (and chat.left) goes out twice.

Breaks: "When a user goes from 1 to 0 connections: `{"type": "leave", "room": R, "user": U}` to everyone still there." and "A second tab of the same user is **not** a second user" ... bob and two tabs of ann are in a room and both of ann's tabs stop reading; bob's next message drops both, and bob receives {"type": "leave", "user": "ann"} twice, and chat.left for ann is emitted twice.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
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


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    if message.get("text") is None:
        raise ValueError("binary frames are not allowed")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("frame is not JSON") from None
    if type(frame) is not dict:
        raise ValueError("frame is not a JSON object")
    kind = frame.get("type")
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if not isinstance(kind, str) or kind != "message":
        raise ValueError("type must be 'message' or 'ping', got " + repr(kind)[:40])
    text = frame.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if text == "":
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text has {len(text)} characters, the limit is {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._data: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._data[room][user]
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._data.get(room)
        if not users or user not in users or conn not in users[user]:
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        return True

    def roster(self, room: str) -> list[str]:
        users = self._data.get(room, {})
        return sorted(u for u, tabs in users.items() if tabs)

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self._data.get(room, {}).values() for c in tabs]


async def _send_one(conn: Any, text: str, timeout: float) -> Any:
    try:
        await asyncio.wait_for(conn.send_text(text), timeout)
    except Exception:
        return conn
    return None


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    text = json.dumps(frame)
    outcomes = await asyncio.gather(*[_send_one(c, text, timeout) for c in list(conns)])
    return [c for c in outcomes if c is not None]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    state: dict[str, Any] = {
        "presence": Presence(),
        "seq": defaultdict(int),
        "locks": defaultdict(asyncio.Lock),
        "user_of": {},
    }
    presence: Presence = state["presence"]

    async def send_room(room: str, frame: dict[str, Any]) -> None:
        dropped = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if dropped:
            await drop(room, dropped)

    async def drop(room: str, conns: list[Any]) -> None:
        # forget them all first, so no leave is sent to one of them...
        for conn in conns:
            presence.leave(room, state["user_of"].get(conn, ""), conn)
        for conn in conns:
            try:
                await asyncio.wait_for(conn.close(code=1011), send_timeout)
            except Exception:
                pass
        # ...then announce every one of them that is gone from the room
        for conn in conns:
            user = state["user_of"].get(conn, "")
            if user not in presence.roster(room):
                await app.events.emit("chat.left", {"room": room, "user": user})
                await send_room(room, {"type": "leave", "room": room, "user": user})

    @app.events.on("room.message")
    async def deliver(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with state["locks"][room]:
            state["seq"][room] += 1
            frame = {"type": "message", "room": room, "user": msg["user"], "text": msg["text"],
                     "seq": state["seq"][room]}
            await send_room(room, frame)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            bad = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"{bad} is missing or invalid"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        state["user_of"][ws] = user
        async with state["locks"][room]:
            arrived = presence.join(room, user, ws)
            try:
                await asyncio.wait_for(ws.send_text(json.dumps(
                    {"type": "roster", "room": room, "users": presence.roster(room)})),
                    send_timeout)
            except Exception:
                presence.leave(room, user, ws)
                state["user_of"].pop(ws, None)
                return
            if arrived:
                await app.events.emit("chat.joined", {"room": room, "user": user})
                await send_room(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                received = await ws.receive()
                if received["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(received)
                except ValueError as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await app.events.emit("ws.error", {"room": room, "user": user,
                                                       "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await app.events.emit("room.message", {"room": room, "user": user,
                                                           "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with state["locks"][room]:
                if presence.leave(room, user, ws):
                    await app.events.emit("chat.left", {"room": room, "user": user})
                    await send_room(room, {"type": "leave", "room": room, "user": user})
            state["user_of"].pop(ws, None)

    return app
