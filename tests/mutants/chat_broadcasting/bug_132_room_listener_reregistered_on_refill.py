"""Bug: each room object registers its own `room.message` listener when it is created and is thrown away when the room empties, without `off`, so a room that empties and fills again has two listeners and relays every message twice (and once more per refill).

Breaks: "a **listener** broadcasts it to every connection in the room, the sender included: `{"type": "message", "room": R, "user": U, "text": T, "seq": N}`" and "`N` is a per-room counter ... Every member sees a room's frames in the same order, and `seq` agrees with that order." ... ann says "one" in lobby and leaves; bob enters the empty lobby and says "two": he receives it twice, with seq 2 and seq 3, and his next message comes with seq 4.
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
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ValueError("missing type" if kind is None else f"type must be a string, got {repr(kind)[:30]}")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown type {kind[:30]!r}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        new = len(tabs) == 0
        tabs.add(conn)
        return new

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room)
        if not users or conn not in users.get(user, set()):
            return False
        users[user].remove(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def _try_send(conn: Any, text: str, timeout: float) -> bool:
    try:
        await asyncio.wait_for(conn.send_text(text), timeout)
    except Exception:
        return False
    return True


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)
    ok = await asyncio.gather(*[_try_send(m, text, timeout) for m in members])
    return [m for m, sent in zip(members, ok) if not sent]


class Room:
    """One open room: its lock, and the listener that relays its messages."""

    def __init__(self, hub: Hub, name: str) -> None:
        self.hub = hub
        self.name = name
        self.lock = asyncio.Lock()
        hub.events.on("room.message", self.on_message)

    async def on_message(self, msg: dict[str, Any]) -> None:
        if msg["room"] != self.name:
            return
        async with self.lock:
            seq = self.hub.next_seq(self.name)
            await self.send({"type": "message", "room": self.name, "user": msg["user"],
                             "text": msg["text"], "seq": seq})

    async def send(self, frame: dict[str, Any]) -> None:
        """Lock held: send to everyone here; drop who failed, all first, then announce."""
        hub = self.hub
        queue = [frame]
        while queue:
            failed = await broadcast(hub.presence.connections(self.name), queue.pop(0),
                                     timeout=hub.send_timeout)
            left = []
            for ws in failed:
                hub.dropped.add(ws)
                user = hub.user_of.get(ws)
                if user is not None and hub.presence.leave(self.name, user, ws):
                    left.append(user)
                hub.hang_up(ws)
            for user in left:
                await hub.events.emit("chat.left", {"room": self.name, "user": user})
                queue.append({"type": "leave", "room": self.name, "user": user})


class Hub:
    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.seqs: dict[str, int] = {}  # kept for as long as the server runs
        self.user_of: dict[Any, str] = {}
        self.dropped: set[Any] = set()
        self.closing: set[asyncio.Task[None]] = set()

    def next_seq(self, room: str) -> int:
        self.seqs[room] = self.seqs.get(room, 0) + 1
        return self.seqs[room]

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(self, name)
        return self.rooms[name]

    def tidy(self, name: str) -> None:
        """Forget a room nobody is in any more."""
        if not self.presence.connections(name):
            self.rooms.pop(name, None)

    def hang_up(self, ws: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(ws.close(code=1011), self.send_timeout)
            except Exception:
                pass

        task = asyncio.ensure_future(close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def tell(self, ws: Any, frame: dict[str, Any]) -> bool:
        return not await broadcast([ws], frame, timeout=self.send_timeout)

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(name) and valid_name(user)):
            bad = "room" if not valid_name(name) else "user"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"invalid {bad} name"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        room = self.room(name)
        self.user_of[ws] = user
        try:
            async with room.lock:
                first = self.presence.join(name, user, ws)
                if not await self.tell(ws, {"type": "roster", "room": name,
                                            "users": self.presence.roster(name)}):
                    self.presence.leave(name, user, ws)
                    return
                if first:
                    await self.events.emit("chat.joined", {"room": name, "user": user})
                    await room.send({"type": "join", "room": name, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws in self.dropped:
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await self.tell(ws, {"type": "error", "code": "bad_frame",
                                                "message": str(exc)}):
                        break
                    await self.events.emit("ws.error", {"room": name, "user": user,
                                                        "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    if not await self.tell(ws, {"type": "pong"}):
                        break
                else:
                    await self.events.emit("room.message", {"room": name, "user": user,
                                                            "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with room.lock:
                self.user_of.pop(ws, None)
                self.dropped.discard(ws)
                if self.presence.leave(name, user, ws):
                    await self.events.emit("chat.left", {"room": name, "user": user})
                    await room.send({"type": "leave", "room": name, "user": user})
                self.tidy(name)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    hub = Hub(day25.install(app), send_timeout)
    app.ws_route("/chat/{room}")(hub.handle)
    return app
