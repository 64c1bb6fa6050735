"""Bug: Presence.connections returns a set (a union of the users' sets) instead of a new list.

Breaks: "connections(room)" in the Presence contract: "A new list of every open connection in ``room`` (every tab of every user)."
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
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII ones."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _describe(value: Any) -> str:
    if isinstance(value, str):
        shown = repr(value[:40])
        return shown + ("..." if len(value) > 40 else "")
    return f"a {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message to a ping or message command, else ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not allowed; send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        if "type" not in data:
            raise ValueError("the frame has no type")
        raise ValueError(f"unknown type {_describe(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {_describe(text)}")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users or user not in users or conn not in users[user]:
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return set().union(*self._rooms.get(room, {}).values())


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send frame to a snapshot of conns side by side; return the members that failed."""
    members = list(conns)
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(m.send_text(text), timeout) for m in members),
        return_exceptions=True,
    )
    return [m for m, out in zip(members, outcomes) if isinstance(out, BaseException)]


class ChatServer:
    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.events = day25.install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = defaultdict(int)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.owner: dict[Any, str] = {}
        app.ws_route("/chat/{room}")(self.route)
        self.events.on("room.message", self.on_message)

    async def announce(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (lock held), then drop whoever failed."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        if failed:
            await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        left = []
        for ws in failed:
            user = self.owner.get(ws)
            if user is not None and self.presence.leave(room, user, ws):
                left.append(user)
        await asyncio.gather(*(self.close_quietly(ws) for ws in failed))
        for user in left:
            await self.announce(room, {"type": "leave", "room": room, "user": user})
            await self.events.emit("chat.left", {"room": room, "user": user})

    async def close_quietly(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(code=1011), self.send_timeout)
        except BaseException:
            pass

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.locks[room]:
            self.seq[room] += 1
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": self.seq[room]}
            await self.announce(room, frame)

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)

    async def route(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "room" if not valid_name(room) else "user"
            try:
                await self.send(ws, {"type": "error", "code": "bad_request",
                                     "message": f"missing or invalid {what} name"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        self.owner[ws] = user
        try:
            async with self.locks[room]:
                arrived = self.presence.join(room, user, ws)
                try:
                    await self.send(ws, {"type": "roster", "room": room,
                                         "users": self.presence.roster(room)})
                except BaseException:
                    self.presence.leave(room, user, ws)
                    return
                if arrived:
                    await self.announce(room, {"type": "join", "room": room, "user": user})
                    await self.events.emit("chat.joined", {"room": room, "user": user})
            await self.serve(ws, room, user)
        except WebSocketDisconnect:
            pass
        except Exception:
            pass
        finally:
            async with self.locks[room]:
                if self.presence.leave(room, user, ws):
                    await self.announce(room, {"type": "leave", "room": room, "user": user})
                    await self.events.emit("chat.left", {"room": room, "user": user})
            self.owner.pop(ws, None)

    async def serve(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                error = str(exc)
                await self.send(ws, {"type": "error", "code": "bad_frame", "message": error})
                await self.events.emit("ws.error", {"room": room, "user": user, "error": error})
                continue
            if command["type"] == "ping":
                await self.send(ws, {"type": "pong"})
            else:
                await self.events.emit("room.message",
                                       {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with app.events and the /chat/{room} route."""
    app = NexiosApp()
    app.state_chat = ChatServer(app, send_timeout)
    return app
