"""Style: one ChatServer class whose methods split the route, a presence keyed by (room, user) pairs, and a TaskGroup broadcast.

Correct because: names use fullmatch of a 1-32 pattern on str only; parse_frame
maps every refusal of json.loads (ValueError or RecursionError) to ValueError,
checks type and text with isinstance before comparing, and quotes values
shortened; presence keeps (room, user) -> set of connections, so a user joins on
the first tab and leaves on the last, and leaving twice changes nothing;
broadcast works on a list copy, serialises once, and wraps each send in its own
timeout inside a TaskGroup whose tasks never raise, so all sends run side by side
and the failed members come back after the others got the frame; one lock per
room covers seq and all broadcasts; members dropped by one broadcast are all
forgotten before their leaves are announced, and are closed with 1011 in the
background.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of the 64 allowed ASCII characters."""
    return type(value) is str and bool(NAME.fullmatch(value))


def _brief(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 32 else shown[:29] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a ping or message command, else ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not part of the protocol")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object")
    kind = data.get("type", None)
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError("missing type" if kind is None else f"unknown type {_brief(kind)}")
    text = data.get("text", None)
    if text is None:
        raise ValueError("a message needs a text")
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {_brief(text)}")
    if len(text) == 0:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> open connections, stored flat as (room, user) -> set."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        if key in self._tabs:
            self._tabs[key].add(conn)
            return False
        self._tabs[key] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None or conn not in tabs:
            return False
        if len(tabs) > 1:
            tabs.remove(conn)
            return False
        del self._tabs[key]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted({user for (r, user) in self._tabs if r == room})

    def connections(self, room: str) -> list[Hashable]:
        return [conn for (r, _), tabs in self._tabs.items() if r == room for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send frame to a copy of conns side by side, each send bounded; return the failed."""
    members = list(conns)
    text = json.dumps(frame)
    failed = [False] * len(members)

    async def attempt(index: int, member: Any) -> None:
        try:
            await asyncio.wait_for(member.send_text(text), timeout)
        except Exception:
            failed[index] = True

    async with asyncio.TaskGroup() as group:
        for index, member in enumerate(members):
            group.create_task(attempt(index, member))
    return [member for member, bad in zip(members, failed) if bad]


class ChatServer:
    """All state of one app: presence, per-room seq and lock, the bus."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.bus = day25.install(app)
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.seq: dict[str, int] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.user_of: dict[Any, str] = {}
        self.closing: set[asyncio.Task[None]] = set()
        self.bus.on("room.message", self.on_room_message)
        app.ws_route("/chat/{room}")(self.handle)

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def on_room_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            number = self.seq.get(room, 0) + 1
            self.seq[room] = number
            await self.to_room(room, {"type": "message", "room": room, "user": payload["user"],
                                      "text": payload["text"], "seq": number})

    async def to_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast with the room's lock held; forget all failures, then announce them."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        departed = [self.user_of[c] for c in failed
                    if c in self.user_of and self.presence.leave(room, self.user_of[c], c)]
        for conn in failed:
            task = asyncio.get_running_loop().create_task(self.close_dropped(conn))
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)
        for user in departed:
            await self.announce_leave(room, user)

    async def close_dropped(self, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
        except Exception:
            pass

    async def announce_leave(self, room: str, user: str) -> None:
        await self.bus.emit("chat.left", {"room": room, "user": user})
        await self.to_room(room, {"type": "leave", "room": room, "user": user})

    @staticmethod
    async def send(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def handle(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            what = "room" if not valid_name(room) else "user"
            try:
                await self.send(ws, {"type": "error", "code": "bad_request",
                                     "message": f"{what} must be 1-32 of A-Z a-z 0-9 _ . -"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except (WebSocketDisconnect, RuntimeError, OSError):
                pass
            return
        self.user_of[ws] = user
        try:
            await self.enter(ws, room, user)
            await self.read_loop(ws, room, user)
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with self.lock(room):
                if self.presence.leave(room, user, ws):
                    await self.announce_leave(room, user)
            self.user_of.pop(ws, None)

    async def enter(self, ws: WebSocket, room: str, user: str) -> None:
        async with self.lock(room):
            first_tab = self.presence.join(room, user, ws)
            await self.send(ws, {"type": "roster", "room": room,
                                 "users": self.presence.roster(room)})
            if first_tab:
                await self.bus.emit("chat.joined", {"room": room, "user": user})
                await self.to_room(room, {"type": "join", "room": room, "user": user})

    async def read_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await self.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                await self.bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                await self.send(ws, {"type": "pong"})
            else:
                await self.bus.emit("room.message",
                                    {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as app.events and the /chat/{room} route."""
    app = NexiosApp()
    app.state_chat = ChatServer(app, send_timeout)
    return app
