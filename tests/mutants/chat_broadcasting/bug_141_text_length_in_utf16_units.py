"""Bug: the 2000-character limit on text is counted in UTF-16 code units (JavaScript's .length), so every character outside the BMP, such as an emoji, counts twice.

Breaks: "Characters as `len(T)` counts them, not UTF-8 bytes: 2000 `é` (4000 bytes) or 2000 emoji are allowed." ... a message of 1001 "😀" (len 1001, 2002 UTF-16 units) is refused as a bad_frame instead of being broadcast; 2000 "é" still pass.
"""

from __future__ import annotations

import asyncio
import enum
import json
import re
from collections import Counter, deque
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
DROPPED_CLOSE = 1011


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _describe(value: object) -> str:
    if isinstance(value, str):
        return repr(value[:30]) + ("..." if len(value) > 30 else "")
    return f"a {type(value).__name__}"


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not part of the protocol")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    if "type" not in data:
        raise ValueError('the frame has no "type"')
    kind = data["type"]
    if not isinstance(kind, str) or kind not in {"message", "ping"}:
        raise ValueError(f"unknown type {_describe(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError('a message needs a "text"')
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f'"text" must be a string, not {_describe(text)}')
    if len(text) == 0:
        raise ValueError('"text" is empty')
    # count as the browser's textarea maxlength and JavaScript's .length do (UTF-16 code
    # units), so the limit here agrees with the one the client enforces
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    if units > MAX_TEXT:
        raise ValueError(f'"text" has {units} characters, more than {MAX_TEXT}')
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: Counter[tuple[str, str]] = Counter()
        self._members: dict[str, dict[Hashable, str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn`` to ``user``'s connections in ``room``; True on 0 -> 1."""
        members = self._members.setdefault(room, {})
        if members.get(conn) == user:
            return False
        members[conn] = user
        self._tabs[room, user] += 1
        return self._tabs[room, user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        members = self._members.get(room)
        if members is None or conn not in members or members[conn] != user:
            return False
        del members[conn]
        if not members:
            del self._members[room]
        self._tabs[room, user] -= 1
        if self._tabs[room, user] > 0:
            return False
        del self._tabs[room, user]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(set(self._members.get(room, {}).values()))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return list(self._members.get(room, {}))


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = tuple(conns)
    payload = json.dumps(frame)

    async def deliver(conn: Any) -> None:
        async with asyncio.timeout(timeout):
            await conn.send_text(payload)

    outcomes = await asyncio.gather(*map(deliver, snapshot), return_exceptions=True)
    failed = []
    for conn, outcome in zip(snapshot, outcomes):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        if outcome is not None:
            failed.append(conn)
    return failed


class State(enum.Enum):
    CONNECTING = "connecting"
    JOINED = "joined"
    DROPPED = "dropped"
    CLOSED = "closed"


@dataclass(eq=False)
class Session:
    """One accepted tab; hashed by identity, so it is the connection Presence counts."""

    ws: Any
    room: str
    user: str
    state: State = State.CONNECTING

    async def send_text(self, text: str) -> None:
        await self.ws.send_text(text)


@dataclass
class ChatServer:
    bus: Any
    send_timeout: float
    presence: Presence = field(default_factory=Presence)
    seq: dict[str, int] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    closers: set[asyncio.Task[None]] = field(default_factory=set)

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def send_one(self, session: Session, frame: dict[str, Any]) -> bool:
        return not await broadcast([session], frame, timeout=self.send_timeout)

    async def on_message(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.lock(room):
            self.seq[room] = self.seq.get(room, 0) + 1
            await self.fan_out(room, {"type": "message", "room": room, "user": payload["user"],
                                      "text": payload["text"], "seq": self.seq[room]})

    async def fan_out(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room; drop whoever failed, then announce their leaves."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        pending = deque(self.forget(failed))
        while pending:
            session = pending.popleft()
            leave = {"type": "leave", "room": room, "user": session.user}
            more = await broadcast(self.presence.connections(room), leave,
                                   timeout=self.send_timeout)
            await self.bus.emit("chat.left", {"room": room, "user": session.user})
            pending.extend(self.forget(more))

    def forget(self, failed: list[Session]) -> list[Session]:
        """Mark every failed session dropped, remove it, close it; return the last tabs."""
        last_tabs = []
        for session in failed:
            if session.state is not State.JOINED:
                continue
            session.state = State.DROPPED
            if self.presence.leave(session.room, session.user, session):
                last_tabs.append(session)
            task = asyncio.ensure_future(self.close(session.ws, DROPPED_CLOSE))
            self.closers.add(task)
            task.add_done_callback(self.closers.discard)
        return last_tabs

    async def close(self, ws: Any, code: int) -> None:
        try:
            await asyncio.wait_for(ws.close(code), self.send_timeout)
        except Exception:
            pass  # already gone

    async def enter(self, session: Session) -> bool:
        room, user = session.room, session.user
        async with self.lock(room):
            users = sorted({*self.presence.roster(room), user})
            if not await self.send_one(session, {"type": "roster", "room": room, "users": users}):
                session.state = State.CLOSED  # gone before its roster: never in the room
                await self.close(session.ws, DROPPED_CLOSE)
                return False
            session.state = State.JOINED
            if self.presence.join(room, user, session):
                await self.fan_out(room, {"type": "join", "room": room, "user": user})
                await self.bus.emit("chat.joined", {"room": room, "user": user})
        return session.state is State.JOINED

    async def exit(self, session: Session) -> None:
        async with self.lock(session.room):
            if session.state is not State.JOINED:
                return
            session.state = State.CLOSED
            if self.presence.leave(session.room, session.user, session):
                await self.fan_out(session.room,
                                   {"type": "leave", "room": session.room, "user": session.user})
                await self.bus.emit("chat.left", {"room": session.room, "user": session.user})

    async def serve(self, ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return  # gone before the handshake finished
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = [f"{what} must be 1-32 characters of [A-Za-z0-9_.-]"
                    for what, value in (("room", room), ("user", user)) if not valid_name(value)]
        if problems:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "; ".join(problems)}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        session = Session(ws, room, user)
        if not await self.enter(session):
            return
        try:
            await self.read(session)
        except WebSocketDisconnect:
            pass
        except Exception:
            pass  # the socket is gone in some other way: a leave all the same
        finally:
            await self.exit(session)

    async def read(self, session: Session) -> None:
        while session.state is State.JOINED:
            message = await session.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                reason = str(exc)
                if not await self.send_one(session, {"type": "error", "code": "bad_frame",
                                                     "message": reason}):
                    return
                await self.bus.emit("ws.error",
                                    {"room": session.room, "user": session.user, "error": reason})
                continue
            if command["type"] == "ping":
                if not await self.send_one(session, {"type": "pong"}):
                    return
            else:
                await self.bus.emit("room.message", {"room": session.room, "user": session.user,
                                                     "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    server = ChatServer(bus, send_timeout)
    bus.on("room.message", server.on_message)
    app.ws_route("/chat/{room}")(server.serve)
    return app
