"""Style: functional, with membership as an `asynccontextmanager` (enter: join, roster, join frame; exit: leave), commands dispatched through a dict, Presence kept as room -> {connection: user} plus a per-room `Counter` of tabs, and a broadcast whose sends all start together under one `loop.call_later` deadline that cancels whatever is still running.

Follows: "`valid_name`: a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (isinstance + `fullmatch`, so no trailing newline); "`parse_frame` ... else `ValueError`, and never any other exception" (binary, `ValueError`/`RecursionError` from `json.loads`, non-object, `type` compared only once known to be a `str`, `text` a `str` of 1-2000 by `len`); "`join` is True on 0 -> 1, `leave` True on 1 -> 0 (and harmless twice)" and "one joined in two rooms is in each" (Counter of tabs per room and user, a connection is checked against the user it joined as in that room); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`" (one `json.dumps`, `list(conns)`, every send started at once and cancelled by the shared deadline `timeout` seconds later); "The new connection's first frame is the roster" then the join "(the joiner's too, after its roster)", only on 0 -> 1, leave only on 1 -> 0; "`N` is a per-room counter starting at 1 ... does **not** restart when the room empties" (a dict never pruned, bumped under the room's lock); "members dropped by one broadcast leave **together**: forget every one of them before announcing any of their leaves" and "the server closes it (code 1011, if it still can)"; "the connection **stays open**, and nobody else receives anything" for a bad frame, with `ws.error`; "A normal disconnect ... is a leave, **not** an error"; "A tab can be gone before its roster is sent ... (no later roster lists it)" (it leaves presence again, unannounced); 4400 with `bad_request` after `await ws.accept()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Hashable, Iterable
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


def _short(value: object) -> str:
    return repr(value)[:40]


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    if "type" not in data:
        raise ValueError('the frame has no "type"')
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError(f"unknown type {_short(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError('a message needs a "text"')
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("text must not be empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._owner: defaultdict[str, dict[Hashable, str]] = defaultdict(dict)  # room -> conn -> user
        self._tabs: defaultdict[str, Counter[str]] = defaultdict(Counter)  # room -> user -> tabs

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        owners = self._owner[room]
        if owners.get(conn) == user:
            return False
        owners[conn] = user
        self._tabs[room][user] += 1
        return self._tabs[room][user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        owners = self._owner.get(room)
        if owners is None or owners.get(conn, None) != user or conn not in owners:
            return False
        del owners[conn]
        tabs = self._tabs[room]
        tabs[user] -= 1
        last = tabs[user] == 0
        if last:
            del tabs[user]
        if not owners:
            del self._owner[room]
            del self._tabs[room]
        return last

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._tabs[room]) if room in self._tabs else []

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return list(self._owner[room]) if room in self._owner else []


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def attempt(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(attempt(conn)) for conn in members]

    def deadline() -> None:
        for task in tasks:
            if not task.done():
                task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, deadline)
    try:
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        timer.cancel()
    return [conn for conn, task in zip(members, tasks)
            if task.cancelled() or task.exception() is not None]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    seq: Counter[str] = Counter()
    room_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    speaker: dict[Any, str] = {}  # connection -> user
    cut_off: set[Any] = set()  # connections dropped by a broadcast, until their route ends
    hangups: set[asyncio.Task[None]] = set()

    def hang_up(ws: Any) -> None:
        async def close() -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(code=1011), send_timeout)

        task = asyncio.ensure_future(close())
        hangups.add(task)
        task.add_done_callback(hangups.discard)

    async def post(ws: Any, frame: dict[str, Any]) -> bool:
        """One frame to one connection; False if it failed or stalled."""
        if await broadcast([ws], frame, timeout=send_timeout):
            cut_off.add(ws)
            return False
        return True

    async def publish(room: str, frame: dict[str, Any]) -> None:
        """With the room's lock held. Failed members: all forgotten, then each announced."""
        outbox = [frame]
        while outbox:
            failed = await broadcast(presence.connections(room), outbox.pop(0),
                                     timeout=send_timeout)
            departed = [speaker[ws] for ws in failed
                        if ws in speaker and presence.leave(room, speaker[ws], ws)]
            for ws in failed:
                cut_off.add(ws)
                hang_up(ws)
            for user in departed:
                await bus.emit("chat.left", {"room": room, "user": user})
                outbox.append({"type": "leave", "room": room, "user": user})

    @bus.on("room.message")
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with room_locks[room]:
            seq[room] += 1
            await publish(room, {"type": "message", "room": room, "user": msg["user"],
                                 "text": msg["text"], "seq": seq[room]})

    @contextlib.asynccontextmanager
    async def membership(ws: Any, room: str, user: str) -> AsyncIterator[bool]:
        speaker[ws] = user
        try:
            async with room_locks[room]:
                arrived = presence.join(room, user, ws)
                present = await post(ws, {"type": "roster", "room": room,
                                          "users": presence.roster(room)})
                if not present:
                    presence.leave(room, user, ws)  # gone before its roster
                    hang_up(ws)
                elif arrived:
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await publish(room, {"type": "join", "room": room, "user": user})
            yield present
        finally:
            async with room_locks[room]:
                speaker.pop(ws, None)
                cut_off.discard(ws)
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await publish(room, {"type": "leave", "room": room, "user": user})

    async def on_ping(ws: Any, room: str, user: str, command: dict[str, Any]) -> None:
        if not await post(ws, {"type": "pong"}):
            hang_up(ws)

    async def on_message(ws: Any, room: str, user: str, command: dict[str, Any]) -> None:
        await bus.emit("room.message", {"room": room, "user": user, "text": command["text"]})

    handlers = {"ping": on_ping, "message": on_message}

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        wrong = [what for what, value in (("room", room), ("user", user)) if not valid_name(value)]
        if wrong:
            with contextlib.suppress(Exception):
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"missing or invalid {' and '.join(wrong)}: "
                               "1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            return
        with contextlib.suppress(WebSocketDisconnect):
            async with membership(ws, room, user) as present:
                while present and ws not in cut_off:
                    message = await ws.receive()
                    if message["type"] == "websocket.disconnect" or ws in cut_off:
                        break
                    try:
                        command = parse_frame(message)
                    except ValueError as exc:
                        if not await post(ws, {"type": "error", "code": "bad_frame",
                                               "message": str(exc)}):
                            hang_up(ws)
                        await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                        continue
                    await handlers[command["type"]](ws, room, user, command)

    return app
