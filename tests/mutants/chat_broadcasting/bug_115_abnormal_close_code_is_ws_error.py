"""Bug: a disconnect whose close code is not 1000 or 1001 (an app-defined close such as 4000, or a connection lost without a closing handshake, 1005/1006) is reported as a ws.error before the leave.

Breaks: "A normal disconnect (`WebSocketDisconnect`, or a `websocket.disconnect` message) is a leave, **not** an error: never emit `ws.error` for it" and "A connection that dies (no closing handshake, or a send to it fails) leaves like one that closed." ... a client that closes with code 4000, or whose TCP connection is dropped without a closing handshake (code 1005 here), makes the app emit ws.error {"room": R, "user": U, "error": "connection lost (close code 4000)"} besides its leave.
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
CLEAN_CLOSE_CODES = frozenset({1000, 1001})  # "normal closure" and "going away" (a closed tab)


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not valid JSON") from None
    if type(data) is not dict:
        raise ValueError("the frame must be a JSON object")
    kind = data.get("type")
    if kind not in ("ping", "message") or not isinstance(kind, str):
        raise ValueError('"type" must be "ping" or "message"')
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str) or not text:
        raise ValueError('"text" must be a non-empty string')
    if len(text) > MAX_TEXT:
        raise ValueError(f'"text" is longer than {MAX_TEXT} characters')
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.get(room, {}).get(user, set())
        if conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._rooms[room][user]
        if not self._rooms[room]:
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
    snapshot = list(conns)
    data = json.dumps(frame)

    async def send(conn: Any) -> Any:
        try:
            await asyncio.wait_for(conn.send_text(data), timeout)
        except Exception:
            return conn
        return None

    results = await asyncio.gather(*map(send, snapshot))
    return [conn for conn in results if conn is not None]


class Chat:
    """Everything one app knows; the route makes a session per connection."""

    def __init__(self, bus: Any, send_timeout: float) -> None:
        self.bus = bus
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.users: dict[Any, str] = {}
        self.seqs: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def lock(self, room: str) -> asyncio.Lock:
        if room not in self.locks:
            self.locks[room] = asyncio.Lock()
        return self.locks[room]

    async def _close(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), self.send_timeout)
        except Exception:
            pass

    def _forget(self, room: str, failed: list[Any]) -> list[str]:
        left = []
        for ws in failed:
            user = self.users.pop(ws, None)
            if user is not None and self.presence.leave(room, user, ws):
                left.append(user)
            task = asyncio.ensure_future(self._close(ws))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return left

    async def fan_out(self, room: str, frame: dict[str, Any]) -> None:
        frames = [frame]
        while frames:
            failed = await broadcast(self.presence.connections(room), frames.pop(0),
                                     timeout=self.send_timeout)
            for user in self._forget(room, failed):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    async def relay(self, event: dict[str, Any]) -> None:
        room = event["room"]
        async with self.lock(room):
            self.seqs[room] = self.seqs.get(room, 0) + 1
            await self.fan_out(room, {"type": "message", "room": room, "user": event["user"],
                                      "text": event["text"], "seq": self.seqs[room]})


class Session:
    """One connection: join, read frames until it ends, leave."""

    def __init__(self, chat: Chat, ws: WebSocket, room: str, user: str) -> None:
        self.chat, self.ws, self.room, self.user = chat, ws, room, user

    async def tell(self, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(self.ws.send_text(json.dumps(frame)), self.chat.send_timeout)
        except Exception:
            pass

    async def enter(self) -> bool:
        chat, room, user = self.chat, self.room, self.user
        async with chat.lock(room):
            first = chat.presence.join(room, user, self.ws)
            chat.users[self.ws] = user
            roster = {"type": "roster", "room": room, "users": chat.presence.roster(room)}
            if await broadcast([self.ws], roster, timeout=chat.send_timeout):
                chat._forget(room, [self.ws])
                return False
            if first:
                await chat.bus.emit("chat.joined", {"room": room, "user": user})
                await chat.fan_out(room, {"type": "join", "room": room, "user": user})
        return True

    async def closed(self, code: int) -> None:
        if code not in CLEAN_CLOSE_CODES:
            await self.chat.bus.emit("ws.error", {"room": self.room, "user": self.user,
                                                  "error": f"connection lost (close code {code})"})

    async def exit(self) -> None:
        chat, room, user = self.chat, self.room, self.user
        async with chat.lock(room):
            chat.users.pop(self.ws, None)
            if chat.presence.leave(room, user, self.ws):
                await chat.bus.emit("chat.left", {"room": room, "user": user})
                await chat.fan_out(room, {"type": "leave", "room": room, "user": user})

    async def run(self) -> None:
        try:
            if not await self.enter():
                return
            while True:
                message = await self.ws.receive()
                if message["type"] == "websocket.disconnect":
                    await self.closed(message.get("code", 1000))
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.tell({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.chat.bus.emit("ws.error", {"room": self.room, "user": self.user,
                                                          "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.tell({"type": "pong"})
                else:
                    await self.chat.bus.emit("room.message", {"room": self.room, "user": self.user,
                                                              "text": command["text"]})
        except WebSocketDisconnect as exc:
            await self.closed(exc.code)
        finally:
            await self.exit()


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    chat = Chat(day25.install(app), send_timeout)
    chat.bus.on("room.message", chat.relay)

    @app.ws_route("/chat/{room}")
    async def chat_route(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            which = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"invalid {which}: use 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        await Session(chat, ws, room, user).run()

    return app
