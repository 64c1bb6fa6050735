"""Bug: valid_name returns False only for the kinds of value its contract lists (None, a number, a list, a dict) and hands anything else to the str regex, which raises TypeError.

Breaks: "Any other value (None, a number, a list, a dict) is False, never an exception." ...
valid_name(b"ann"), valid_name(("ann",)), valid_name({"ann"}) or valid_name(object())
raise TypeError ("cannot use a string pattern on a bytes-like object", "expected string
or bytes-like object") instead of returning False. The parenthesis was taken as the
whole list of "other" values, where "any other value" and "never an exception" make it a
list of examples.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
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


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if value is None or isinstance(value, (int, float, list, dict)):
        return False  # None, a number, a list, a dict: not a name
    return NAME.fullmatch(value) is not None


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return repr(value if len(value) <= 24 else value[:24] + "...")
    return f"a JSON {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(message["text"])
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if type(data) is not dict:
        raise ValueError(f"expected a JSON object, got {_describe(data)}")
    if "type" not in data:
        raise ValueError("missing type")
    kind = data["type"]
    if not (isinstance(kind, str) and kind in {"message", "ping"}):
        raise ValueError(f"unknown type {_describe(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("missing text")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {_describe(text)}")
    if text == "":
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, defaultdict[str, set[Hashable]]] = defaultdict(
            lambda: defaultdict(set))

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms[room][user]
        was_empty = not tabs
        tabs.add(conn)
        return was_empty

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if users is None or conn not in users.get(user, ()):
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        users = self._rooms.get(room)
        return sorted(users) if users else []

    def connections(self, room: str) -> list[Hashable]:
        users = self._rooms.get(room)
        return [conn for tabs in users.values() for conn in tabs] if users else []


async def _send_one(conn: Any, text: str, timeout: float) -> bool:
    async def send() -> None:
        await conn.send_text(text)

    try:
        await asyncio.wait_for(send(), timeout)
        return True
    except Exception:
        return False


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = tuple(conns)
    text = json.dumps(frame)
    delivered = await asyncio.gather(*(_send_one(m, text, timeout) for m in members))
    return [m for m, ok in zip(members, delivered) if not ok]


@dataclass
class Room:
    """One room's order: its lock (every frame of the room goes out under it) and its seq."""

    name: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


@dataclass(eq=False)
class Tab:
    """One open connection: hashed by identity, so it is one member of the presence."""

    ws: Any
    room: Room
    user: str
    dropped: bool = False

    def send_text(self, text: str) -> Any:
        return self.ws.send_text(text)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    background: set[asyncio.Task[Any]] = set()

    def room_of(name: str) -> Room:
        room = rooms.get(name)
        if room is None:
            room = rooms[name] = Room(name)
        return room

    async def close_1011(tab: Tab) -> None:
        try:
            await asyncio.wait_for(tab.ws.close(1011), send_timeout)
        except Exception:
            pass

    async def send_room(room: Room, frame: dict[str, Any]) -> None:
        """Under room.lock: send to the room now; drop whoever fails, all together."""
        frames = [frame]
        while frames:
            failed = await broadcast(presence.connections(room.name), frames.pop(0),
                                     timeout=send_timeout)
            gone = [tab for tab in failed if forget(tab)]
            for tab in failed:
                task = asyncio.ensure_future(close_1011(tab))
                background.add(task)
                task.add_done_callback(background.discard)
            for tab in gone:
                await bus.emit("chat.left", {"room": room.name, "user": tab.user})
                frames.append({"type": "leave", "room": room.name, "user": tab.user})

    def forget(tab: Tab) -> bool:
        tab.dropped = True
        return presence.leave(tab.room.name, tab.user, tab)

    async def to_tab(tab: Tab, frame: dict[str, Any]) -> bool:
        async with tab.room.lock:
            if tab.dropped:
                return False
            if not await broadcast([tab], frame, timeout=send_timeout):
                return True
            if forget(tab):
                await bus.emit("chat.left", {"room": tab.room.name, "user": tab.user})
                await send_room(tab.room, {"type": "leave", "room": tab.room.name, "user": tab.user})
            task = asyncio.ensure_future(close_1011(tab))
            background.add(task)
            task.add_done_callback(background.discard)
            return False

    async def on_ping(tab: Tab, command: dict[str, Any]) -> bool:
        return await to_tab(tab, {"type": "pong"})

    async def on_message(tab: Tab, command: dict[str, Any]) -> bool:
        await bus.emit("room.message", {"room": tab.room.name, "user": tab.user,
                                        "text": command["text"]})
        return True

    handlers = {"ping": on_ping, "message": on_message}

    @bus.on("room.message")
    async def relay(payload: dict[str, Any]) -> None:
        room = room_of(payload["room"])
        async with room.lock:
            room.seq += 1
            await send_room(room, {"type": "message", "room": room.name, "user": payload["user"],
                                   "text": payload["text"], "seq": room.seq})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        name, user = ws.path_params.get("room"), ws.query_params.get("user")
        for label, value in (("room", name), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_text(json.dumps({
                        "type": "error", "code": "bad_request",
                        "message": f"{label} must be 1-32 characters of [A-Za-z0-9_.-]"}))
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        tab = Tab(ws, room_of(name), user)
        try:
            async with tab.room.lock:
                arrived = presence.join(name, user, tab)
                try:
                    await ws.send_text(json.dumps(
                        {"type": "roster", "room": name, "users": presence.roster(name)}))
                except Exception:
                    forget(tab)  # gone before its roster: no one heard of it
                    return
                if arrived:
                    await bus.emit("chat.joined", {"room": name, "user": user})
                    await send_room(tab.room, {"type": "join", "room": name, "user": user})
            while not tab.dropped:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or tab.dropped:
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await to_tab(tab, {"type": "error", "code": "bad_frame",
                                              "message": str(exc)}):
                        break
                    await bus.emit("ws.error", {"room": name, "user": user, "error": str(exc)})
                    continue
                if not await handlers[command["type"]](tab, command):
                    break
        except Exception:
            pass  # a dead socket leaves like a closed one
        finally:
            async with tab.room.lock:
                if presence.leave(name, user, tab):
                    await bus.emit("chat.left", {"room": name, "user": user})
                    await send_room(tab.room, {"type": "leave", "room": name, "user": user})

    return app
