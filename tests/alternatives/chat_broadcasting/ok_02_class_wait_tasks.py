"""OK variant (style: a ``ChatServer`` class holding the state; a ``Room``
dataclass per room with its own lock and a seq counter that is never deleted;
``broadcast`` starts one task per member and ``asyncio.wait(..., timeout=)``s
them together, cancelling the ones still pending; Presence keeps
room -> user -> set and answers roster with ``sorted(set(...))``; the route reads
raw ASGI messages and hands them to ``parse_frame``).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
_ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if type(value) is not str and not isinstance(value, str):
        return False
    return 1 <= len(value) <= 32 and all(ch in _ALLOWED for ch in value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("binary frame: frames must be JSON text")
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        except ValueError as exc:
            raise ValueError(f"not JSON ({exc.__class__.__name__})") from None
        if type(data) is not dict:
            raise ValueError("frame is not a JSON object")
        kind = data.get("type")
        if kind is None and "type" not in data:
            raise ValueError("frame has no type")
        if isinstance(kind, str) and kind == "ping":
            return {"type": "ping"}
        if not (isinstance(kind, str) and kind == "message"):
            raise ValueError(f"unknown frame type {kind!r}"[:100])
        if "text" not in data:
            raise ValueError("message has no text")
        body = data["text"]
        if not isinstance(body, str):
            raise ValueError("message text is not a string")
        if len(body) == 0:
            raise ValueError("message text is empty")
        if len(body) > MAX_TEXT:
            raise ValueError(f"message text has {len(body)} characters, more than {MAX_TEXT}")
        return {"type": "message", "text": body}
    except ValueError:
        raise
    except Exception as exc:  # whatever the frame holds: a ValueError, nothing else
        raise ValueError(f"unreadable frame ({exc.__class__.__name__})") from None


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
        conns = self._rooms.get(room, {}).get(user)
        if not conns or conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        del self._rooms[room][user]
        if not self._rooms[room]:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(set(self._rooms.get(room, {}).keys()))

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for conns in self._rooms.get(room, {}).values():
            out.extend(conns)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members whose
    send raised or did not finish within ``timeout`` seconds."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame, separators=(",", ":"))
    tasks = {asyncio.ensure_future(m.send_text(text)): m for m in members}
    done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)  # let the cancellations finish
    failed = [tasks[t] for t in pending]
    failed += [tasks[t] for t in done if t.exception() is not None]
    order = {id(m): i for i, m in enumerate(members)}
    return sorted(failed, key=lambda m: order[id(m)])


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


class ChatServer:
    def __init__(self, bus: day25.EventBus, send_timeout: float) -> None:
        self.bus = bus
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.user_of: dict[Any, str] = {}
        self.closing: set[asyncio.Task[None]] = set()

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room()
        return self.rooms[name]

    async def publish(self, room: str, frame: dict[str, Any]) -> None:
        """Call with the room's lock held."""
        queue = [frame]
        while queue:
            frame = queue.pop(0)
            for conn in await broadcast(self.presence.connections(room), frame,
                                        timeout=self.send_timeout):
                user = self.user_of.get(conn)
                if user is not None and self.presence.leave(room, user, conn):
                    await self.bus.emit("chat.left", {"room": room, "user": user})
                    queue.append({"type": "leave", "room": room, "user": user})
                task = asyncio.ensure_future(self._close(conn))
                self.closing.add(task)
                task.add_done_callback(self.closing.discard)

    async def _close(self, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
        except Exception:
            pass

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = self.room(payload["room"])
        async with room.lock:
            room.seq += 1
            await self.publish(payload["room"], {
                "type": "message", "room": payload["room"], "user": payload["user"],
                "text": payload["text"], "seq": room.seq})

    async def enter(self, ws: WebSocket, room: str, user: str) -> None:
        async with self.room(room).lock:
            self.user_of[ws] = user
            first = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            await asyncio.wait_for(ws.send_text(json.dumps(roster)), self.send_timeout)
            if first:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.publish(room, {"type": "join", "room": room, "user": user})

    async def exit(self, ws: WebSocket, room: str, user: str) -> None:
        async with self.room(room).lock:
            if self.presence.leave(room, user, ws):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                await self.publish(room, {"type": "leave", "room": room, "user": user})
        self.user_of.pop(ws, None)

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        for what, value in (("room", room), ("user", user)):
            if not valid_name(value):
                reason = f"{what} is missing" if not value else f"bad {what} name"
                try:
                    await ws.send_json({"type": "error", "code": "bad_request", "message": reason})
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        entered = False
        try:
            entered = True
            await self.enter(ws, room, user)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as problem:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(problem)})
                    await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(problem)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                    continue
                await self.bus.emit("room.message", {"room": room, "user": user,
                                                     "text": command["text"]})
        except WebSocketDisconnect:
            return
        except Exception:
            return  # a send to a dead or dropped socket: that is a leave too
        finally:
            if entered:
                await self.exit(ws, room, user)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    server = ChatServer(bus, send_timeout)
    bus.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.serve)
    return app
