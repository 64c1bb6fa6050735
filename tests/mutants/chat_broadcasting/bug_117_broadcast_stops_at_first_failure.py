"""Bug: broadcast waits with return_when=FIRST_EXCEPTION, so when one member's send raises, every send still in flight is cancelled and that member is reported as failed too.

Breaks: "A member whose send raises, or does not finish within ``timeout`` seconds, is returned; every other member still gets the frame" and "a member that reads slowly but takes each frame within `send_timeout` is not dropped" ... broadcast([dead, slow], frame, timeout=1.0), where dead.send_text raises at once and slow.send_text takes 0.05 s, returns [dead, slow] and slow never gets the frame; in the app, a slow reader is dropped (leave, close 1011) whenever a dead member shares its broadcast.
"""

from __future__ import annotations

import asyncio
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
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not supported")
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("invalid JSON") from None
    if not isinstance(obj, dict):
        raise ValueError("a frame must be a JSON object")
    kind = obj.get("type")
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if not isinstance(kind, str) or kind != "message":
        raise ValueError('"type" must be "message" or "ping"')
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f'"text" must be 1-{MAX_TEXT} characters')
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.by_room: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.by_room.setdefault(room, {})
        new = user not in users
        users.setdefault(user, set()).add(conn)
        return new

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.by_room.get(room, {})
        if conn not in users.get(user, set()):
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            self.by_room.pop(room, None)
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.by_room.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self.by_room.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = {asyncio.ensure_future(conn.send_text(text)): conn for conn in members}
    # no need to wait out the timeout once a send has failed
    done, pending = await asyncio.wait(tasks, timeout=timeout,
                                       return_when=asyncio.FIRST_EXCEPTION)
    for task in pending:
        task.cancel()
    failed = {tasks[task] for task in pending}
    failed.update(tasks[task] for task in done
                  if not task.cancelled() and task.exception() is not None)
    return [conn for conn in members if conn in failed]


class RoomState:
    def __init__(self, name: str) -> None:
        self.name = name
        self.seq = 0
        self.lock = asyncio.Lock()


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, RoomState] = {}
    user_of: dict[Any, str] = {}
    closing: set[asyncio.Task[None]] = set()

    def state(room: str) -> RoomState:
        return rooms.setdefault(room, RoomState(room))

    async def shut(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), send_timeout)
        except Exception:
            pass

    def remove(room: str, failed: list[Any]) -> list[str]:
        left = []
        for ws in failed:
            user = user_of.pop(ws, None)
            if user is not None and presence.leave(room, user, ws):
                left.append(user)
            task = asyncio.ensure_future(shut(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        return left

    async def to_room(room: str, frame: dict[str, Any]) -> None:
        frames = [frame]
        while frames:
            failed = await broadcast(presence.connections(room), frames.pop(0),
                                     timeout=send_timeout)
            for user in remove(room, failed):
                await bus.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    async def on_message(event: dict[str, Any]) -> None:
        room = state(event["room"])
        async with room.lock:
            room.seq += 1
            await to_room(room.name, {"type": "message", "room": room.name, "user": event["user"],
                                      "text": event["text"], "seq": room.seq})

    bus.on("room.message", on_message)

    async def private(ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            pass

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        bad = [label for label, value in (("room", room), ("user", user)) if not valid_name(value)]
        if bad:
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"invalid {' and '.join(bad)}: 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        lock = state(room).lock
        try:
            async with lock:
                first = presence.join(room, user, ws)
                user_of[ws] = user
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                if await broadcast([ws], roster, timeout=send_timeout):
                    remove(room, [ws])
                    return
                if first:
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await to_room(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await private(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await private(ws, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with lock:
                user_of.pop(ws, None)
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await to_room(room, {"type": "leave", "room": room, "user": user})

    return app
