"""Bug: broadcast waits for its sends with asyncio.wait(..., return_when=FIRST_EXCEPTION), so as soon as one member's send raises it stops waiting and cancels and returns every send still in progress, including members that would have taken the frame well within the timeout.

Breaks: "A member whose send raises, or does not finish within ``timeout`` seconds, is returned; every other member still gets the frame" and "a member that reads slowly but takes each frame within `send_timeout` is not dropped" ... broadcast([dead, slow], frame, timeout=1.0), where dead's send raises at once and slow's takes 0.15 s, returns [dead, slow] and slow never gets the frame (in the app that slow member is dropped and announced as left).
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
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not part of the protocol")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in {"message", "ping"}:
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError("text is missing or not a string")
    if not body or len(body) > MAX_TEXT:
        raise ValueError(f"text must have 1 to {MAX_TEXT} characters")
    return {"type": "message", "text": body}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.setdefault(room, {})
        tabs = users.setdefault(user, set())
        before = len(tabs)
        tabs.add(conn)
        return before == 0

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.get(room)
        if users is None:
            return False
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if not tabs:
            users.pop(user)
            return True
        return False

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        found: list[Hashable] = []
        for tabs in self.rooms.get(room, {}).values():
            found += list(tabs)
        return found


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    sends = {asyncio.ensure_future(conn.send_text(text)): conn for conn in members}
    # stop waiting at the first failure or at the timeout, whichever comes first
    done, pending = await asyncio.wait(sends, timeout=timeout,
                                       return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    failed = set(pending) | {t for t in done if t.exception() is not None}
    return [conn for task, conn in sends.items() if task in failed]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    presence = Presence()
    seq: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    owners: dict[Any, str] = {}

    def room_lock(room: str) -> asyncio.Lock:
        if room not in locks:
            locks[room] = asyncio.Lock()
        return locks[room]

    async def publish(room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        departed = [owners[c] for c in failed if presence.leave(room, owners[c], c)]
        for conn in failed:
            try:
                await asyncio.wait_for(conn.close(code=1011), send_timeout)
            except Exception:
                pass
        for user in departed:
            await app.events.emit("chat.left", {"room": room, "user": user})
            await publish(room, {"type": "leave", "room": room, "user": user})

    async def on_message(event: dict[str, Any]) -> None:
        room = event["room"]
        async with room_lock(room):
            seq[room] = seq.get(room, 0) + 1
            await publish(room, {"type": "message", "room": room, "user": event["user"],
                                 "text": event["text"], "seq": seq[room]})

    app.events.on("room.message", on_message)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            try:
                await reply(ws, {"type": "error", "code": "bad_request",
                                 "message": "room and user must be 1-32 characters of [A-Za-z0-9_.-]"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        owners[ws] = user
        async with room_lock(room):
            is_new = presence.join(room, user, ws)
            try:
                await asyncio.wait_for(reply(ws, {"type": "roster", "room": room,
                                                  "users": presence.roster(room)}), send_timeout)
            except Exception:
                presence.leave(room, user, ws)
                owners.pop(ws, None)
                return
            if is_new:
                await app.events.emit("chat.joined", {"room": room, "user": user})
                await publish(room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                incoming = await ws.receive()
                if incoming["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(incoming)
                except ValueError as exc:
                    await reply(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"room": room, "user": user,
                                                       "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await reply(ws, {"type": "pong"})
                else:
                    await app.events.emit("room.message", {"room": room, "user": user,
                                                           "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with room_lock(room):
                if presence.leave(room, user, ws):
                    await app.events.emit("chat.left", {"room": room, "user": user})
                    await publish(room, {"type": "leave", "room": room, "user": user})
            owners.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app
