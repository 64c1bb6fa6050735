"""Bug: broadcast hands each member the frame dict with ``await conn.send_json(frame)``, as the lesson's ``Rooms.broadcast(room, message)`` and its ``DeadSocket.send_json`` do, instead of serialising once with ``json.dumps`` and calling ``send_text`` (carried over from notebooks/09_chat_application.ipynb, cell 13 (``class DeadSocket: async def send_json``) and cell 6 (``await rooms.broadcast(..., {"type": "message", **msg})``, a dict, not a text)).

Breaks: "Serialise ``frame`` to JSON once with ``json.dumps`` and send the text with ``await conn.send_text(text)`` to each member (not ``send_json``, which writes raw UTF-8 and fails on a text holding a lone surrogate)." ... A message whose text is "\\ud800" makes every member's send fail, so the whole room is dropped and closed with 1011; and broadcast() given members that only have send_text returns all of them as failed.
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
        raise ValueError("binary frames are not allowed")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {type(data).__name__}")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError(f"unknown or missing type ({type(kind).__name__})")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        first = not tabs
        tabs.add(conn)
        return first

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users or user not in users or conn not in users[user]:
            return False
        tabs = users[user]
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    async def send(conn: Any) -> None:
        await conn.send_json(frame)  # like Rooms.broadcast: members take the dict

    tasks = [asyncio.ensure_future(send(conn)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    failed = []
    for conn, task in zip(members, tasks):
        if task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.owners: dict[Any, str] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.seq: dict[str, int] = {}

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def close_all(self, conns: list[Any]) -> None:
        async def close(conn: Any) -> None:
            try:
                await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
            except Exception:
                pass
        await asyncio.gather(*(close(c) for c in conns))

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room; drop the members that failed, cascading their leaves."""
        failed = await broadcast(self.presence.connections(room), frame, timeout=self.send_timeout)
        while failed:
            left = []
            for conn in failed:
                user = self.owners.pop(conn, None)
                if user is not None and self.presence.leave(room, user, conn):
                    left.append(user)
            await self.close_all(failed)
            failed = []
            for user in left:
                failed += await broadcast(self.presence.connections(room),
                                          {"type": "leave", "room": room, "user": user},
                                          timeout=self.send_timeout)
                await self.app.events.emit("chat.left", {"room": room, "user": user})
            failed = list(dict.fromkeys(failed))

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            await self.send_room(room, {"type": "message", "room": room, "user": payload["user"],
                                        "text": payload["text"], "seq": self.seq[room]})

    async def enter(self, ws: WebSocket, room: str, user: str) -> bool:
        async with self.lock(room):
            first = self.presence.join(room, user, ws)
            self.owners[ws] = user
            try:
                await ws.send_text(json.dumps(
                    {"type": "roster", "room": room, "users": self.presence.roster(room)}))
            except Exception:
                self.owners.pop(ws, None)
                self.presence.leave(room, user, ws)
                return False
            if first:
                await self.send_room(room, {"type": "join", "room": room, "user": user})
                await self.app.events.emit("chat.joined", {"room": room, "user": user})
            return True

    async def exit(self, ws: WebSocket, room: str, user: str) -> None:
        async with self.lock(room):
            self.owners.pop(ws, None)
            if self.presence.leave(room, user, ws):
                await self.send_room(room, {"type": "leave", "room": room, "user": user})
                await self.app.events.emit("chat.left", {"room": room, "user": user})

    async def route(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "room and user must be 1-32 characters of [A-Za-z0-9_.-]"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        if not await self.enter(ws, room, user):
            return
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame", "message": error}))
                    await self.app.events.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await self.app.events.emit("room.message",
                                               {"room": room, "user": user, "text": command["text"]})
        except Exception:
            pass
        finally:
            await self.exit(ws, room, user)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.route)
    return app
