"""Bug: the room's seq counter is only advanced when the message was delivered to at least one member, like the lesson's ``notification["delivered"]`` count; a message nobody took gives its number back (carried over from notebooks/07_notifications.ipynb, cell 6 (``notification["delivered"] = await rooms.broadcast(room, ...)``)).

Breaks: "`N` is a per-room counter starting at 1, kept for as long as the server runs: it does **not** restart when the room empties (a room that emptied and filled again goes on from where it was)." ... ann alone in the lobby sends "one" (seq 1) and then "two" while her connection is dying: nobody takes it and ann is dropped, the counter stays at 1, and when bob joins and speaks his message is seq 2 instead of 3.
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
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return bool(re.fullmatch(NAME, value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: frames must be JSON text")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError:
        raise ValueError("not JSON") from None
    if type(data) is not dict:
        raise ValueError("the frame must be a JSON object")
    kind = data.get("type", None)
    if not any(kind == k and type(kind) is str for k in KINDS):
        raise ValueError("missing type" if "type" not in data else "unknown type")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a text")
    text = data["text"]
    if type(text) is not str:
        raise ValueError("text must be a string")
    if len(text) == 0 or len(text) > MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.setdefault(room, {})
        arrived = user not in users
        users.setdefault(user, {})[conn] = None
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self.rooms.get(room, {}).get(user)
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del self.rooms[room][user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self.rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = tuple(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> None:
        async def send() -> None:
            await conn.send_text(text)
        await asyncio.wait_for(send(), timeout)

    outcomes = await asyncio.gather(*(one(c) for c in snapshot), return_exceptions=True)
    return [c for c, outcome in zip(snapshot, outcomes) if isinstance(outcome, BaseException)]


@dataclass
class Room:
    name: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    who: dict[Any, tuple[str, str]] = {}

    def room_of(name: str) -> Room:
        if name not in rooms:
            rooms[name] = Room(name)
        return rooms[name]

    async def close_dropped(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass

    async def announce(room: str, frame: dict[str, Any]) -> int:
        members = presence.connections(room)
        pending = await broadcast(members, frame, timeout=send_timeout)
        delivered = len(members) - len(pending)
        while pending:
            gone: list[str] = []
            for conn in pending:
                entry = who.pop(conn, None)
                if entry and presence.leave(room, entry[1], conn):
                    gone.append(entry[1])
            await asyncio.gather(*(close_dropped(c) for c in pending))
            pending = []
            for user in gone:
                more = await broadcast(presence.connections(room),
                                       {"type": "leave", "room": room, "user": user},
                                       timeout=send_timeout)
                pending.extend(c for c in more if c not in pending)
                await bus.emit("chat.left", {"room": room, "user": user})
        return delivered

    async def relay(payload: dict[str, Any]) -> None:
        room = room_of(payload["room"])
        async with room.lock:
            seq = room.seq + 1
            delivered = await announce(room.name, {"type": "message", "room": room.name,
                                                   "user": payload["user"],
                                                   "text": payload["text"], "seq": seq})
            if delivered:
                room.seq = seq  # only messages somebody got count

    bus.on("room.message", relay)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name, user = ws.path_params.get("room"), ws.query_params.get("user")
        problems = [f"{what} must be 1-32 characters of [A-Za-z0-9_.-]"
                    for what, value in (("room", name), ("user", user)) if not valid_name(value)]
        if problems:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "; ".join(problems)}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        room = room_of(name)
        async with room.lock:
            first = presence.join(name, user, ws)
            who[ws] = (name, user)
            try:
                await ws.send_text(json.dumps({"type": "roster", "room": name,
                                               "users": presence.roster(name)}))
            except Exception:
                who.pop(ws, None)
                presence.leave(name, user, ws)
                return
            if first:
                await announce(name, {"type": "join", "room": name, "user": user})
                await bus.emit("chat.joined", {"room": name, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await bus.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_text('{"type": "pong"}')
                else:
                    await bus.emit("room.message", {"room": name, "user": user, "text": command["text"]})
        except Exception:
            pass
        finally:
            async with room.lock:
                who.pop(ws, None)
                if presence.leave(name, user, ws):
                    await announce(name, {"type": "leave", "room": name, "user": user})
                    await bus.emit("chat.left", {"room": name, "user": user})

    app.ws_route("/chat/{room}")(chat)
    return app
