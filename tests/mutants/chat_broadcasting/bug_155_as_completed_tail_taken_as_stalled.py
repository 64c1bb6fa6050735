"""Bug: broadcast collects sends with asyncio.as_completed(timeout=...) and, at the deadline, takes the members still sending to be the last ones in the list (members[finished:]), but as_completed yields sends in the order they finish, so when a stalled member comes before a live one the wrong members are returned.

Breaks: "A member whose send raises, or does not finish within ``timeout`` seconds, is returned; every other member still gets the frame" ... broadcast([stalled, ok], frame, timeout=0.2) returns [ok] instead of [stalled]; in the app, a live member listed after a member that stopped reading is dropped in its place (leave, close 1011) while the stalled one stays: ann, joining a room where bob stopped reading, is closed with 1011 right after her roster, and bob stays to hold every later broadcast for send_timeout.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> a command, or ValueError("<what is wrong>")."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError("unknown or missing type")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
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
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._rooms.setdefault(room, {})
        conns = users.get(user)
        if conns is None:
            users[user] = {conn}
            return True
        conns.add(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
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
        """The users in ``room``: sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for conns in self._rooms.get(room, {}).values() for c in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members that failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(member: Any) -> Any:
        try:
            await member.send_text(text)
        except Exception:
            return member  # its send raised
        return None

    tasks = [asyncio.ensure_future(send(member)) for member in members]
    failed: list[Any] = []
    finished = 0
    try:
        for next_done in asyncio.as_completed(tasks, timeout=timeout):
            member = await next_done
            finished += 1
            if member is not None:
                failed.append(member)
    except TimeoutError:
        for task in tasks:
            task.cancel()
        failed.extend(members[finished:])  # the sends still running at the deadline
    return failed


class _Room:
    """One room's state: its seq counter and the lock that orders its frames."""

    def __init__(self) -> None:
        self.seq = 0
        self.lock = asyncio.Lock()


class ChatServer:
    """Everything one app knows: presence, rooms, and which user each connection is."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, _Room] = {}
        self.user_of: dict[Any, str] = {}
        self.closers: set[asyncio.Task[None]] = set()

    def room(self, name: str) -> _Room:
        found = self.rooms.get(name)
        if found is None:
            found = self.rooms[name] = _Room()
        return found

    async def emit(self, event: str, payload: dict[str, Any]) -> None:
        await self.app.events.emit(event, payload)

    async def send_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room's members now; drop whoever failed (lock held)."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        left = []
        for ws in failed:  # forget them all first ...
            user = self.user_of.get(ws)
            if user is not None and self.presence.leave(room, user, ws):
                left.append(user)
            task = asyncio.ensure_future(self.close_1011(ws))
            self.closers.add(task)
            task.add_done_callback(self.closers.discard)
        for user in left:  # ... then announce their leaves
            await self.emit("chat.left", {"room": room, "user": user})
            await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def close_1011(self, ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), self.send_timeout)
        except Exception:
            pass

    async def reply(self, room: str, ws: Any, frame: dict[str, Any]) -> None:
        async with self.room(room).lock:
            failed = await broadcast([ws], frame, timeout=self.send_timeout)
            await self.drop(room, failed)

    async def on_message(self, msg: dict[str, Any]) -> None:
        room = msg["room"]
        state = self.room(room)
        async with state.lock:
            state.seq += 1
            await self.send_room(room, {"type": "message", "room": room, "user": msg["user"],
                                        "text": msg["text"], "seq": state.seq})

    async def enter(self, room: str, user: str, ws: Any) -> bool:
        async with self.room(room).lock:
            self.user_of[ws] = user
            arrived = self.presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": self.presence.roster(room)}
            if await broadcast([ws], roster, timeout=self.send_timeout):
                self.presence.leave(room, user, ws)
                self.user_of.pop(ws, None)
                return False
            if arrived:
                await self.emit("chat.joined", {"room": room, "user": user})
                await self.send_room(room, {"type": "join", "room": room, "user": user})
            return True

    async def exit(self, room: str, user: str, ws: Any) -> None:
        async with self.room(room).lock:
            self.user_of.pop(ws, None)
            if self.presence.leave(room, user, ws):
                await self.emit("chat.left", {"room": room, "user": user})
                await self.send_room(room, {"type": "leave", "room": room, "user": user})

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for what, value in (("room", room), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_json({"type": "error", "code": "bad_request",
                                        "message": f"missing or invalid {what} name"})
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        if not await self.enter(room, user, ws):
            return
        try:
            while True:
                try:
                    message = await ws.receive()
                except Exception:
                    return
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await self.reply(room, ws, {"type": "error", "code": "bad_frame",
                                                "message": str(exc)})
                    await self.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await self.reply(room, ws, {"type": "pong"})
                else:
                    await self.emit("room.message", {"room": room, "user": user,
                                                     "text": command["text"]})
        finally:
            await self.exit(room, user, ws)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.serve)
    return app
