"""Bug: Presence remembers one socket per user for delivery (the newest tab), so while a user has two tabs open only the newest one receives room frames.

Breaks: "a **listener** broadcasts it to every connection in the room, the sender included", and the Presence contract "`connections(room)`: a new list of every open connection in `room` (every tab of every user)".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("frame is not JSON") from None
    if not isinstance(obj, dict):
        raise ValueError("frame is not a JSON object")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {repr(kind)[:40]}")
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


class Presence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}
        self._latest: dict[str, dict[str, Hashable]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        self._latest.setdefault(room, {})[user] = conn
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users or conn not in users.get(user, ()):
            return False
        conns = users[user]
        conns.discard(conn)
        if conns:
            if self._latest[room].get(user) is conn:
                self._latest[room][user] = next(iter(conns))
            return False
        self._latest.get(room, {}).pop(user, None)
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return list(self._latest.get(room, {}).values())


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    snapshot = list(conns)
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(c.send_text(text), timeout) for c in snapshot),
        return_exceptions=True,
    )
    return [c for c, out in zip(snapshot, outcomes) if isinstance(out, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    members: dict[Any, tuple[str, str]] = {}
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    seqs: defaultdict[str, int] = defaultdict(int)
    closers: set[asyncio.Task] = set()

    async def close_quietly(ws: Any, code: int) -> None:
        try:
            await asyncio.wait_for(ws.close(code), send_timeout)
        except BaseException:
            pass

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Send to the room; the lock of the room is held by the caller."""
        dropped = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not dropped:
            return
        gone = []
        for ws in dropped:
            _, user = members.get(ws, (room, None))
            if user is not None and presence.leave(room, user, ws):
                gone.append(user)
        for ws in dropped:
            task = asyncio.get_running_loop().create_task(close_quietly(ws, 1011))
            closers.add(task)
            task.add_done_callback(closers.discard)
        for user in gone:
            await events.emit("chat.left", {"room": room, "user": user})
            await deliver(room, {"type": "leave", "room": room, "user": user})

    async def depart(room: str, user: str, ws: Any) -> None:
        async with locks[room]:
            if presence.leave(room, user, ws):
                await events.emit("chat.left", {"room": room, "user": user})
                await deliver(room, {"type": "leave", "room": room, "user": user})
        members.pop(ws, None)

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with locks[room]:
            seqs[room] += 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seqs[room]}
            await deliver(room, frame)

    events.on("room.message", on_message)

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
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        members[ws] = (room, user)
        try:
            async with locks[room]:
                arrived = presence.join(room, user, ws)
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                await asyncio.wait_for(ws.send_text(json.dumps(roster)), send_timeout)
                if arrived:
                    await events.emit("chat.joined", {"room": room, "user": user})
                    await deliver(room, {"type": "join", "room": room, "user": user})
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": error}))
                    await events.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        except Exception:
            pass
        finally:
            await depart(room, user, ws)

    return app
