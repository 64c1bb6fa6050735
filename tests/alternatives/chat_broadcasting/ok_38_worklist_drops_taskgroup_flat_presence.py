"""Style: closures over a small per-room dataclass, a flat (room, user) -> tabs presence, a TaskGroup broadcast with asyncio.timeout per member, and drops handled by an explicit worklist of frames instead of recursion.

Follows: "True only for a str of 1-32 characters of [A-Za-z0-9_.-]" (fullmatch on a str, never an exception); "Raise ValueError ... Never raise anything else" (json.loads ValueError and RecursionError caught, type checked with isinstance before the membership test, reprs cut short); "True when the user just arrived (0 -> 1 connections)", "True when it was the user's last connection (1 -> 0)", "Leaving with a connection that is not (or no longer) there returns False and changes nothing", "sorted, each once", "A new list of every open connection in room"; "Serialise frame to JSON once ... await conn.send_text(text)", "A member whose send raises, or does not finish within timeout seconds, is returned; every other member still gets the frame" (each task catches its own failure inside asyncio.timeout, all started together), "Work on a copy of conns"; "Always await ws.accept() first", bad_request + 4400; roster first, then join to everyone on 0 -> 1; leave on 1 -> 0 to those still there; "a listener of room.message does the broadcast", seq per room from 1, never reset, assigned and broadcast under the room's lock; bad_frame to the sender + ws.error, socket stays open; ping -> pong; normal disconnect is a leave, not an error; "Members dropped by one broadcast leave together: forget them all before announcing any of their leaves", closed with 1011 (if it still can be) without holding the room up.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
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


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    match value:
        case str() if NAME.fullmatch(value):
            return True
        case _:
            return False


def _short(value: object) -> str:
    text = repr(value)
    return text[:30] + "..." if len(text) > 33 else text


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: send JSON as text")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError:
        raise ValueError("not JSON") from None
    match data:
        case {"type": str() as kind} if kind == "ping":
            return {"type": "ping"}
        case {"type": str() as kind} if kind == "message":
            text = data.get("text")
            if not isinstance(text, str):
                raise ValueError("message text must be a string")
            if not 1 <= len(text) <= MAX_TEXT:
                raise ValueError(f"message text must have 1 to {MAX_TEXT} characters")
            return {"type": "message", "text": text}
        case dict() if "type" not in data:
            raise ValueError("missing type")
        case dict():
            raise ValueError(f"unknown type {_short(data['type'])}")
        case _:
            raise ValueError("the frame must be a JSON object")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}
        self._users: dict[str, set[str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        if key in self._tabs:
            self._tabs[key].add(conn)
            return False
        self._tabs[key] = {conn}
        self._users.setdefault(room, set()).add(user)
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.get((room, user))
        if tabs is None or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._tabs[room, user]
        users = self._users[room]
        users.remove(user)
        if not users:
            del self._users[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, set()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for user in self._users.get(room, ()) for conn in self._tabs[room, user]]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = tuple(conns)
    text = json.dumps(frame)
    ok = [False] * len(snapshot)

    async def send(i: int, conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:
            return
        ok[i] = True

    async with asyncio.TaskGroup() as group:
        for i, conn in enumerate(snapshot):
            group.create_task(send(i, conn))
    return [conn for conn, sent in zip(snapshot, ok) if not sent]


@dataclass
class Room:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0
    tabs: dict[Any, str] = field(default_factory=dict)  # connection -> user


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    background: set[asyncio.Task[None]] = set()

    def room_of(name: str) -> Room:
        return rooms.setdefault(name, Room())

    async def close_1011(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass

    async def run(name: str, first: dict[str, Any]) -> None:
        """Deliver ``first``, then the leaves it causes, in order (room lock held)."""
        room = rooms[name]
        work: deque[dict[str, Any]] = deque([first])
        while work:
            frame = work.popleft()
            if frame["type"] == "leave":
                await bus.emit("chat.left", {"room": name, "user": frame["user"]})
            failed = await broadcast(presence.connections(name), frame, timeout=send_timeout)
            gone = []
            for conn in failed:  # forget all of them first
                user = room.tabs.pop(conn, None)
                if user is not None and presence.leave(name, user, conn):
                    gone.append(user)
            for conn in failed:
                task = asyncio.create_task(close_1011(conn))
                background.add(task)
                task.add_done_callback(background.discard)
            work.extend({"type": "leave", "room": name, "user": user} for user in gone)

    async def on_message(payload: dict[str, Any]) -> None:
        name = payload["room"]
        room = room_of(name)
        async with room.lock:
            room.seq += 1
            await run(name, {"type": "message", "room": name, "user": payload["user"],
                             "text": payload["text"], "seq": room.seq})

    bus.on("room.message", on_message)

    async def send(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        bad = [what for what, value in (("room", name), ("user", user)) if not valid_name(value)]
        if bad:
            try:
                await send(ws, {"type": "error", "code": "bad_request",
                                "message": f"invalid or missing {' and '.join(bad)}"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass
            return
        room = room_of(name)
        try:
            async with room.lock:
                room.tabs[ws] = user
                arrived = presence.join(name, user, ws)
                await send(ws, {"type": "roster", "room": name, "users": presence.roster(name)})
                if arrived:
                    await bus.emit("chat.joined", {"room": name, "user": user})
                    await run(name, {"type": "join", "room": name, "user": user})
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                match command:
                    case {"type": "ping"}:
                        await send(ws, {"type": "pong"})
                    case {"type": "message", "text": text}:
                        await bus.emit("room.message", {"room": name, "user": user, "text": text})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with room.lock:
                room.tabs.pop(ws, None)
                if presence.leave(name, user, ws):
                    await run(name, {"type": "leave", "room": name, "user": user})

    app.ws_route("/chat/{room}")(chat)
    return app
