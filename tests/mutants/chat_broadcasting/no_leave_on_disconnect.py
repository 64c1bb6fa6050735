"""Mutant of chat_broadcasting: a closed connection is removed from the room but nobody hears that
the user left.
"""


from __future__ import annotations

import asyncio
import contextlib
import json
import re
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25.realtime import PresenceTracker, Rooms

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400


def valid_name(value: object) -> bool:
    """Room and user names: 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError saying why."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object with a 'type' field")
    kind = data.get("type")
    if kind == "ping":
        return {"type": "ping"}
    if kind == "message":
        body = data.get("text")
        if not isinstance(body, str) or not body:
            raise ValueError("'text' must be a non-empty string")
        if len(body) > MAX_TEXT:
            raise ValueError(f"'text' is longer than {MAX_TEXT} characters")
        return {"type": "message", "text": body}
    raise ValueError(f"unknown frame type {kind!r}: expected 'message' or 'ping'")


def create_app() -> NexiosApp:
    """A NexiosApp with the ``/chat/{room}`` WebSocket route and a day25 EventBus."""
    app = NexiosApp()
    events = day25.install(app)
    presence: PresenceTracker[WebSocket] = PresenceTracker()
    user_of: dict[WebSocket, str] = {}
    seqs: dict[str, int] = {}

    async def leave(room: str, ws: WebSocket) -> None:
        """Idempotent: a clean close and a failed send may both call it."""
        rooms.leave(room, ws)
        user = user_of.pop(ws, None)
        if user is not None and presence.untrack(room, user, ws):
            await events.emit("chat.left", {"room": room, "user": user})
            await rooms.broadcast(room, {"type": "leave", "room": room, "user": user})

    async def dropped(room: str, ws: WebSocket, error: BaseException) -> None:
        await leave(room, ws)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(1011), 1.0)

    rooms: Rooms[WebSocket] = Rooms(send_timeout=2.0, on_drop=dropped)

    @events.on("room.message")
    async def broadcast_message(payload: dict[str, str]) -> None:
        room = payload["room"]
        seqs[room] = seq = seqs.get(room, 0) + 1
        await rooms.broadcast(room, {"type": "message", **payload, "seq": seq})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            await ws.send_json(
                {
                    "type": "error",
                    "code": "bad_request",
                    "message": "room and ?user= must be 1-32 characters of A-Z a-z 0-9 _ . -",
                }
            )
            await ws.close(BAD_REQUEST_CLOSE)
            return
        assert isinstance(room, str) and isinstance(user, str)
        first = presence.track(room, user, ws)
        user_of[ws] = user
        try:
            await ws.send_json({"type": "roster", "room": room, "users": presence.roster(room)})
            rooms.join(room, ws)
            if first:
                await events.emit("chat.joined", {"room": room, "user": user})
                await rooms.broadcast(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    payload = {"room": room, "user": user, "text": command["text"]}
                    await events.emit("room.message", payload)
        except WebSocketDisconnect:
            pass  # a normal leave, not an error
        finally:
            rooms.leave(room, ws)

    return app
