"""Style: parse_frame walks a table of (rule, complaint) pairs, presence keeps per room a Counter of each user's tabs next to a set of (user, connection) pairs, broadcast collects its per-member outcomes with asyncio.as_completed, and the app is module-level coroutines over a dataclass state bound with functools.partial.

Follows: "`valid_name` | a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (str check, then NAME.fullmatch); "`parse_frame` ... else `ValueError("<what is wrong>")`, and never any other exception" (binary and json.loads' ValueError / RecursionError first, then the rules in order: object, `type` a str, `type` "message" or "ping", `text` a str of 1-MAX_TEXT `len` characters; every rule only looks at what the ones before it proved); "`join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on 1 -> 0 (and harmless twice) ... counted per room and user" (the Counter goes 0 -> 1 / 1 -> 0; a pair not in the set changes nothing); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame" (one json.dumps, list(conns), one wait_for per member run together); "Always `await ws.accept()` first ... `bad_request` ... close with code **4400**"; "roster first, then the join, to everyone" only on 0 -> 1; "`N` is a per-room counter starting at 1 ... does **not** restart when the room empties" and "Every member sees a room's frames in the same order" (a per-room lock around the seq and every room frame); "the sender gets `bad_frame` ..., `ws.error` ..., the connection **stays open**, and nobody else receives anything"; "A normal disconnect ... is a leave, **not** an error"; "members dropped by one broadcast leave together: forget every one of them before announcing any of their leaves", "the server closes it (code 1011, if it still can)" (closes run in the background, bounded by send_timeout, errors ignored) and "must not announce the leave twice" (leave() says False for a forgotten connection).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable
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
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return type(value) is str and NAME.fullmatch(value) is not None


def _is_ping(d: dict[str, Any]) -> bool:
    return d["type"] == "ping"


RULES: tuple[tuple[Callable[[Any], bool], str], ...] = (
    (lambda d: isinstance(d, dict), "the frame must be a JSON object"),
    (lambda d: isinstance(d.get("type"), str), "type is missing or not a string"),
    (lambda d: d["type"] in ("message", "ping"), "type must be 'message' or 'ping'"),
    (lambda d: _is_ping(d) or isinstance(d.get("text"), str), "text is missing or not a string"),
    (lambda d: _is_ping(d) or len(d["text"]) > 0, "text is empty"),
    (lambda d: _is_ping(d) or len(d["text"]) <= MAX_TEXT,
     f"text is longer than {MAX_TEXT} characters"),
)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    for rule, complaint in RULES:
        if not rule(data):
            raise ValueError(complaint)
    if _is_ping(data):
        return {"type": "ping"}
    return {"type": "message", "text": data["text"]}


class Presence:
    """Per room: how many tabs each user has, and which (user, connection) pairs are open."""

    def __init__(self) -> None:
        self._tabs: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._pairs: defaultdict[str, set[tuple[str, Hashable]]] = defaultdict(set)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        pairs = self._pairs[room]
        if (user, conn) in pairs:
            return False
        pairs.add((user, conn))
        self._tabs[room][user] += 1
        return self._tabs[room][user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        pairs = self._pairs.get(room)
        if not pairs or (user, conn) not in pairs:
            return False
        pairs.remove((user, conn))
        tabs = self._tabs[room]
        tabs[user] -= 1
        if tabs[user] > 0:
            return False
        del tabs[user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._tabs.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for _, conn in self._pairs.get(room, ())]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def attempt(index: int, conn: Any) -> tuple[int, bool]:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            return index, False
        return index, True

    delivered = [True] * len(members)
    for outcome in asyncio.as_completed([attempt(i, c) for i, c in enumerate(members)]):
        index, ok = await outcome
        delivered[index] = ok
    return [conn for conn, ok in zip(members, delivered) if not ok]


@dataclass
class State:
    app: NexiosApp
    send_timeout: float
    presence: Presence = field(default_factory=Presence)
    seq: Counter[str] = field(default_factory=Counter)
    locks: defaultdict[str, asyncio.Lock] = field(
        default_factory=lambda: defaultdict(asyncio.Lock))
    user_of: dict[Any, str] = field(default_factory=dict)
    background: set[asyncio.Task[None]] = field(default_factory=set)


async def _close_dropped(state: State, conn: Any) -> None:
    try:
        await asyncio.wait_for(conn.close(code=1011), state.send_timeout)
    except Exception:
        pass  # a member whose send raised is gone already


async def room_send(state: State, room: str, frame: dict[str, Any]) -> None:
    """Broadcast to ``room`` with its lock held; the members it loses leave together."""
    lost = await broadcast(state.presence.connections(room), frame, timeout=state.send_timeout)
    if not lost:
        return
    departed = []
    for conn in lost:
        user = state.user_of[conn]
        if state.presence.leave(room, user, conn):
            departed.append(user)
    for conn in lost:
        task = asyncio.ensure_future(_close_dropped(state, conn))
        state.background.add(task)
        task.add_done_callback(state.background.discard)
    for user in departed:
        await state.app.events.emit("chat.left", {"room": room, "user": user})
        await room_send(state, room, {"type": "leave", "room": room, "user": user})


async def relay(state: State, msg: dict[str, Any]) -> None:
    room = msg["room"]
    async with state.locks[room]:
        state.seq[room] += 1
        await room_send(state, room, {"type": "message", "room": room, "user": msg["user"],
                                      "text": msg["text"], "seq": state.seq[room]})


async def _own(ws: WebSocket, frame: dict[str, Any]) -> None:
    await ws.send_text(json.dumps(frame))


async def enter(state: State, ws: WebSocket, room: str, user: str) -> bool:
    state.user_of[ws] = user
    async with state.locks[room]:
        arrived = state.presence.join(room, user, ws)
        try:
            await asyncio.wait_for(_own(ws, {"type": "roster", "room": room,
                                             "users": state.presence.roster(room)}),
                                   state.send_timeout)
        except Exception:
            state.presence.leave(room, user, ws)
            state.user_of.pop(ws, None)
            return False
        if arrived:
            await state.app.events.emit("chat.joined", {"room": room, "user": user})
            await room_send(state, room, {"type": "join", "room": room, "user": user})
    return True


async def leave(state: State, ws: WebSocket, room: str, user: str) -> None:
    async with state.locks[room]:
        if state.presence.leave(room, user, ws):
            await state.app.events.emit("chat.left", {"room": room, "user": user})
            await room_send(state, room, {"type": "leave", "room": room, "user": user})
    state.user_of.pop(ws, None)


async def chat_route(state: State, ws: WebSocket) -> None:
    await ws.accept()
    room = ws.path_params.get("room")
    user = ws.query_params.get("user")
    if not valid_name(room) or not valid_name(user):
        which = "room" if not valid_name(room) else "user"
        try:
            await _own(ws, {"type": "error", "code": "bad_request",
                            "message": f"{which} must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
        except Exception:
            pass
        return
    if not await enter(state, ws, room, user):
        return
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                break
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await _own(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                await state.app.events.emit("ws.error", {"room": room, "user": user,
                                                         "error": str(exc)})
                continue
            if command["type"] == "ping":
                await _own(ws, {"type": "pong"})
            else:
                await state.app.events.emit("room.message", {"room": room, "user": user,
                                                             "text": command["text"]})
    except (WebSocketDisconnect, RuntimeError, OSError):
        pass
    finally:
        await leave(state, ws, room, user)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    state = State(app, send_timeout)
    app.events.on("room.message", functools.partial(relay, state))

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await chat_route(state, ws)

    return app
