"""The demo chat that ``day25 serve`` runs by default: exercise 3's protocol on ``day25.realtime``.

The protocol is in the chat exercise's page in ``docs/exercises/``. In short: connect to
``/chat/{room}?user=NAME``, get the roster, then join/leave/message frames; a
malformed frame gets an error frame and a ``ws.error`` event, never a close.

The pieces: :class:`~day25.realtime.PresenceTracker` decides when a *user* (not a
tab) joins or leaves; :class:`~day25.realtime.Rooms` broadcasts on a snapshot of
the members, serialising once, and keeps a slow member in its own outbox (closed
with 4408 when that overflows) so it never holds up the room; a member whose send
fails is dropped and announced as left.

State per name stays bounded: everything about a room lives while it has
members, except its message counter, which an :class:`~day25.realtime.IdleCache`
keeps for ``idle_seconds`` after the room empties (at most ``idle_rooms`` rooms),
so a room that empties for a moment goes on counting.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25.realtime import IdleCache, PresenceTracker, Rooms

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
NAME_RULE = "1-32 characters: letters A-Z a-z, digits 0-9, '_', '.' or '-'"
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400


def valid_name(value: object) -> bool:
    """Room and user names: 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: Mapping[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError saying why."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: [[[... deeper than the stack
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
    raise ValueError(f"unknown frame type {kind!r:.40}: expected 'message' or 'ping'")


def create_app(
    *, idle_rooms: int = 1000, idle_seconds: float = 600.0, broker: str | None = None
) -> NexiosApp:
    """A NexiosApp with the ``/chat/{room}`` WebSocket route and a day25 EventBus.

    ``broker`` (a ``redis://`` URL, ``day25 serve --broker``): the same chat across
    several processes, in :mod:`day25.serve.demo.cluster_chat`."""
    if broker is not None:
        import sys

        from day25.serve.demo.cluster_chat import create_app as create_cluster_app

        return create_cluster_app(broker, sys.modules[__name__])
    app = NexiosApp()
    events = day25.install(app)
    presence: PresenceTracker[WebSocket] = PresenceTracker()
    user_of: dict[WebSocket, str] = {}
    seqs: dict[str, int] = {}  # rooms with members
    idle_seqs: IdleCache[str, int] = IdleCache(ttl=idle_seconds, capacity=idle_rooms)

    def park_if_empty(room: str) -> None:
        if room not in rooms and room in seqs:
            idle_seqs.put(room, seqs.pop(room))

    async def leave(room: str, ws: WebSocket) -> None:
        """Idempotent: a clean close and a failed send may both call it."""
        rooms.leave(room, ws)
        user = user_of.pop(ws, None)
        if user is not None and presence.untrack(room, user, ws):
            await events.emit("chat.left", {"room": room, "user": user})
            await rooms.broadcast(room, {"type": "leave", "room": room, "user": user})
        park_if_empty(room)

    async def dropped(room: str, ws: WebSocket, error: BaseException) -> None:
        await leave(room, ws)  # Rooms already closed it if it was a slow consumer

    rooms: Rooms[WebSocket] = Rooms(send_timeout=2.0, on_drop=dropped)

    async def broadcast_message(payload: dict[str, str]) -> None:
        room = payload["room"]
        seq = seqs[room] = (seqs.get(room) or idle_seqs.pop(room, 0)) + 1
        await rooms.broadcast(room, {"type": "message", **payload, "seq": seq})
        park_if_empty(room)

    events.on("room.message", broadcast_message)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "the room name" if not valid_name(room) else "?user="
            await ws.send_json(
                {"type": "error", "code": "bad_request", "message": f"{what} must be {NAME_RULE}"}
            )
            await ws.close(BAD_REQUEST_CLOSE)
            return
        assert isinstance(room, str) and isinstance(user, str)
        first = presence.track(room, user, ws)
        user_of[ws] = user
        try:
            await ws.send_json({"type": "roster", "room": room, "users": presence.roster(room)})
            if room not in seqs:
                seqs[room] = idle_seqs.pop(room, 0)
            rooms.join(room, ws)
            if first:
                await events.emit("chat.joined", {"room": room, "user": user})
                await rooms.broadcast(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws not in user_of:
                    break  # closed, or dropped by the room (a slow consumer, closed already)
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
            await leave(room, ws)

    app.ws_route("/chat/{room}")(chat)
    app.state["per_name_state"] = lambda: {
        "rooms": len(rooms.rooms()),
        "presence": len(presence.rooms()),
        "connections": len(user_of),
        "seqs": len(seqs),
        "idle_seqs": len(idle_seqs),
    }
    return app
