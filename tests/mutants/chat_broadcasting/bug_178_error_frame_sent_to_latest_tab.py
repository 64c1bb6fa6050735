"""Bug: bad_frame errors are delivered by a ws.error listener that looks the sender up by (room, user), a map each new tab overwrites, so the error goes to the user's latest tab, not to the connection that sent the bad frame.

Breaks: "the sender gets `{"type": "error", "code": "bad_frame", "message": "<what was wrong>"}`" and "the connection **stays open**, and nobody else receives anything" ... ann opens tab1 then tab2 in the lobby; tab1 sends "not json": tab2 gets the bad_frame error and tab1 gets nothing (and once tab2 closes, tab1's bad frames get no error at all).
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
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:  # a value too deep to repr
        return "a value"
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown type {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    body = data.get("text")
    if not isinstance(body, str):
        raise ValueError("text must be a string")
    if not body:
        raise ValueError("text is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": body}


class Presence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        first = not conns
        conns.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
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
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def _send_one(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    members = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> bool:
        try:
            await asyncio.wait_for(_send_one(conn, text), timeout)
        except Exception:
            return False
        return True

    ok = await asyncio.gather(*(one(c) for c in members))
    return [c for c, good in zip(members, ok) if not good]


class _Member:
    __slots__ = ("ws", "user")

    def __init__(self, ws: WebSocket, user: str) -> None:
        self.ws = ws
        self.user = user

    def send_text(self, text: str) -> Any:
        return self.ws.send_text(text)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    locks: dict[str, asyncio.Lock] = {}
    seqs: dict[str, int] = {}

    def lock_of(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def close(member: _Member) -> None:
        try:
            await asyncio.wait_for(member.ws.close(1011), send_timeout)
        except Exception:
            pass

    async def deliver(room: str, targets: list[Any], frame: dict[str, Any]) -> None:
        """Send under the room's lock; drop whoever failed, then announce their leaves."""
        failed = await broadcast(targets, frame, timeout=send_timeout)
        while failed:
            left = [m.user for m in failed if presence.leave(room, m.user, m)]
            await asyncio.gather(*(close(m) for m in failed))
            failed = []
            for user in left:
                await events.emit("chat.left", {"room": room, "user": user})
                failed += await broadcast(
                    presence.connections(room),
                    {"type": "leave", "room": room, "user": user},
                    timeout=send_timeout,
                )

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock_of(room):
            seq = seqs[room] = seqs.get(room, 0) + 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": seq}
            await deliver(room, presence.connections(room), frame)

    events.on("room.message", on_message)

    sockets: dict[tuple[str, str], _Member] = {}  # (room, user) -> their connection

    async def on_error(payload: dict[str, Any]) -> None:
        member = sockets.get((payload["room"], payload["user"]))
        if member is None:
            return
        async with lock_of(payload["room"]):
            await deliver(payload["room"], [member],
                          {"type": "error", "code": "bad_frame", "message": payload["error"]})

    events.on("ws.error", on_error)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif not valid_name(user):
            problem = "user must be 1-32 characters of [A-Za-z0-9_.-]"
        if problem:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        me = _Member(ws, user)
        async with lock_of(room):
            roster = sorted({*presence.roster(room), user})
            if await broadcast([me], {"type": "roster", "room": room, "users": roster},
                               timeout=send_timeout):
                await close(me)
                return
            sockets[(room, user)] = me
            if presence.join(room, user, me):
                await events.emit("chat.joined", {"room": room, "user": user})
                await deliver(room, presence.connections(room),
                              {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    async with lock_of(room):
                        await deliver(room, [me], {"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            if sockets.get((room, user)) is me:
                del sockets[(room, user)]
            async with lock_of(room):
                if presence.leave(room, user, me):
                    await events.emit("chat.left", {"room": room, "user": user})
                    await deliver(room, presence.connections(room),
                                  {"type": "leave", "room": room, "user": user})

    return app
