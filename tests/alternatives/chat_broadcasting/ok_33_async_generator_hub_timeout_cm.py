"""Style: one dataclass Hub per app holds all state; the route consumes an async generator of parsed frames, and each broadcast send runs inside its own `asyncio.timeout` block, with drops worked off from a deque.

Follows: "`valid_name`: a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (isinstance + `re.fullmatch` on an ASCII class, so no trailing newline); "`parse_frame` ... else `ValueError`, and never any other exception" (binary, `ValueError`/`RecursionError` from `json.loads`, non-object, `type` compared with `is str` and `in` a tuple, `text` checked for str, empty, `len` > 2000; quotes via short `repr`); "`Presence` room -> user -> that user's open connections" (nested dicts used as ordered sets; join True on 0 -> 1, leave True on 1 -> 0 and False for a connection not there; roster sorted; connections a new list); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled" (`list(conns)`, one `json.dumps`, `gather` of per-member `asyncio.timeout` sends); "Always `await ws.accept()` first ... close with code **4400**"; "The new connection's first frame is the roster" then "`join` ... (the joiner's too, after its roster)" under the room's lock; "A tab can be gone before its roster is sent ... the tab is gone from the room" (it is never added); "a **listener** broadcasts it ... `seq`" (a `room.message` listener, per-room `Counter` never reset, under the room's lock so order and seq agree); "forget every one of them before announcing any of their leaves" and "the server closes it (code 1011 ...)" (each batch a broadcast drops is forgotten as a whole, its leaves queued on a deque; each close is a bounded task); "A normal disconnect ... is a leave, **not** an error" (the generator stops on `websocket.disconnect` / `WebSocketDisconnect`); "a dropped or closed member's later clean-up must not announce the leave twice" (Presence.leave returns False the second time).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and bool(NAME.fullmatch(value))


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:21]}..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if type(raw) is not str:
        raise ValueError("binary frames are not allowed")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if type(data) is not dict:
        raise ValueError("not a JSON object")
    kind = data.get("type")
    if type(kind) is not str or kind not in ("ping", "message"):
        raise ValueError("missing type" if kind is None else f"unknown type {_shown(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if type(text) is not str:
        raise ValueError("text must be a string" if "text" in data else "missing text")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError("empty text" if not text else f"text longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        tabs = users.get(user)
        if tabs is None:
            users[user] = {conn: None}
            return True
        tabs[conn] = None
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        tabs = None if users is None else users.get(user)
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return those that failed."""
    snapshot = list(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> None:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)

    outcomes = await asyncio.gather(*map(one, snapshot), return_exceptions=True)
    failed = []
    for conn, outcome in zip(snapshot, outcomes):
        if isinstance(outcome, asyncio.CancelledError):
            raise outcome
        if isinstance(outcome, BaseException):
            failed.append(conn)
    return failed


async def incoming(ws: WebSocket) -> AsyncIterator[tuple[dict[str, Any] | None, str | None]]:
    """Yield ``(command, None)`` or ``(None, problem)`` per frame, until the socket closes."""
    while True:
        try:
            message = await ws.receive()
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        if message.get("type") == "websocket.disconnect":
            return
        try:
            yield parse_frame(message), None
        except ValueError as exc:
            yield None, str(exc)


@dataclass(eq=False)
class Hub:
    events: day25.EventBus
    send_timeout: float
    presence: Presence = field(default_factory=Presence)
    owner: dict[Any, str] = field(default_factory=dict)
    seq: Counter[str] = field(default_factory=Counter)
    locks: defaultdict[str, asyncio.Lock] = field(default_factory=lambda: defaultdict(asyncio.Lock))
    closers: set[asyncio.Task[None]] = field(default_factory=set)

    async def announce(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (its lock held); the members one broadcast drops leave together."""
        frames = deque([frame])
        while frames:
            dropped = await broadcast(self.presence.connections(room), frames.popleft(),
                                      timeout=self.send_timeout)
            departed = []
            for conn in dropped:  # forget the whole batch before any leave goes out
                user = self.owner.get(conn)
                if user is not None and self.presence.leave(room, user, conn):
                    departed.append(user)
                self._close(conn)
            for user in departed:
                await self.events.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    def _close(self, conn: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(conn.close(1011), self.send_timeout)
            except Exception:
                pass

        task = asyncio.ensure_future(close())
        self.closers.add(task)
        task.add_done_callback(self.closers.discard)

    async def relay(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.locks[room]:
            self.seq[room] += 1
            await self.announce(room, {"type": "message", "room": room, "user": payload["user"],
                                       "text": payload["text"], "seq": self.seq[room]})

    async def arrive(self, ws: WebSocket, room: str, user: str) -> bool:
        async with self.locks[room]:
            names = sorted({*self.presence.roster(room), user})
            try:
                async with asyncio.timeout(self.send_timeout):
                    await ws.send_text(json.dumps({"type": "roster", "room": room, "users": names}))
            except Exception:
                return False
            self.owner[ws] = user
            if self.presence.join(room, user, ws):
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self.announce(room, {"type": "join", "room": room, "user": user})
            return True

    async def depart(self, ws: WebSocket, room: str, user: str) -> None:
        async with self.locks[room]:
            if self.presence.leave(room, user, ws):
                await self.events.emit("chat.left", {"room": room, "user": user})
                await self.announce(room, {"type": "leave", "room": room, "user": user})
        self.owner.pop(ws, None)

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        problem = (f"invalid room {_shown(room)}" if not valid_name(room)
                   else "missing user" if user is None
                   else f"invalid user {_shown(user)}" if not valid_name(user) else None)
        if problem:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": problem}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        if not await self.arrive(ws, room, user):
            return
        try:
            async for command, problem in incoming(ws):
                if problem is not None:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": problem}))
                    await self.events.emit("ws.error", {"room": room, "user": user,
                                                        "error": problem})
                elif command["type"] == "ping":
                    await ws.send_text(json.dumps({"type": "pong"}))
                else:
                    await self.events.emit("room.message", {"room": room, "user": user,
                                                            "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            await self.depart(ws, room, user)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    hub = Hub(day25.install(app), send_timeout)
    hub.events.on("room.message", hub.relay)
    app.ws_route("/chat/{room}")(hub.serve)
    return app
