"""Style: closures only; each room's work runs in turn by chaining it onto the room's previous job (a Future tail, no Lock), presence is one flat dict keyed by (room, user), and broadcast waits on per-member tasks with asyncio.wait and asyncio.timeout.

Follows: "a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (isinstance + NAME.fullmatch, no `$`); "one received frame -> `{"type": "ping"}` or `{"type": "message", "text": T}`, else `ValueError`" (binary, ValueError/RecursionError from json.loads, non-object, type checked with isinstance before comparing, text a non-empty str of at most 2000 characters by len, repr quoted and cut); "`join` is True on 0 -> 1, `leave` True on 1 -> 0 (and harmless twice)" (set per (room, user)); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`" (json.dumps once, a task per member, asyncio.timeout in each, asyncio.wait for all); "Always `await ws.accept()` first" then bad_request and close 4400; "The new connection's first frame is the roster" then the join to every connection, all inside the room's turn; "`N` is a per-room counter starting at 1 ... does **not** restart" (seq dict never emptied); "forget every one of them before announcing any of their leaves" and "the server closes it (code 1011)"; "the connection **stays open**" after a bad frame, with `bad_frame` and `ws.error`; "A normal disconnect ... is a leave, **not** an error".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Hashable, Iterable
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
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` / ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame: frames must be JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if type(data) is not dict:
        raise ValueError(f"the frame must be a JSON object, not {type(data).__name__}")
    if "type" not in data:
        raise ValueError('the frame has no "type"')
    kind = data["type"]
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError(f"unknown type {_shown(kind)}")
    if "text" not in data:
        raise ValueError('a message needs a "text"')
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, not {_shown(text)}")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must have 1-{MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room, in one flat dict: (room, user) -> that user's connections."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        arrived = key not in self._tabs
        self._tabs.setdefault(key, set()).add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key, set())
        if conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self._tabs[key]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(user for (where, user) in self._tabs if where == room)

    def connections(self, room: str) -> list[Hashable]:
        found: list[Hashable] = []
        for (where, _), tabs in self._tabs.items():
            if where == room:
                found.extend(tabs)
        return found


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a copy of ``conns`` side by side; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def deliver(conn: Any) -> None:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)

    tasks = [asyncio.ensure_future(deliver(conn)) for conn in members]
    await asyncio.wait(tasks)
    return [conn for conn, task in zip(members, tasks)
            if task.cancelled() or task.exception() is not None]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    tails: dict[str, asyncio.Future[None]] = {}
    seq: dict[str, int] = {}
    who: dict[Any, str] = {}

    async def in_turn(room: str, job: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``job`` after every job queued for ``room`` before it."""
        before = tails.get(room)
        mine: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        tails[room] = mine
        try:
            if before is not None:
                await asyncio.wait([before])
            return await job()
        finally:
            mine.set_result(None)
            if tails.get(room) is mine:
                del tails[room]

    async def hang_up(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    async def to_room(room: str, frame: dict[str, Any]) -> None:
        """Inside the room's turn: broadcast, then drop whoever failed, all together."""
        frames = [frame]
        while frames:
            failed = await broadcast(presence.connections(room), frames.pop(0),
                                     timeout=send_timeout)
            gone = [who[ws] for ws in failed if presence.leave(room, who[ws], ws)]
            for ws in failed:
                asyncio.ensure_future(hang_up(ws))
            for user in gone:
                await bus.emit("chat.left", {"room": room, "user": user})
                frames.append({"type": "leave", "room": room, "user": user})

    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]

        async def job() -> None:
            seq[room] = seq.get(room, 0) + 1
            await to_room(room, {"type": "message", "room": room, "user": msg["user"],
                                 "text": msg["text"], "seq": seq[room]})

        await in_turn(room, job)

    bus.on("room.message", relay)

    async def say(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
            return True
        except Exception:
            return False

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = ("room must be 1-32 characters of [A-Za-z0-9_.-]" if not valid_name(room)
                   else "user is missing" if user is None
                   else "user must be 1-32 characters of [A-Za-z0-9_.-]" if not valid_name(user)
                   else None)
        if problem is not None:
            if await say(ws, {"type": "error", "code": "bad_request", "message": problem}):
                try:
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
            return

        async def arrive() -> bool:
            users = sorted({*presence.roster(room), user})
            if not await say(ws, {"type": "roster", "room": room, "users": users}):
                return False
            who[ws] = user
            if presence.join(room, user, ws):
                await bus.emit("chat.joined", {"room": room, "user": user})
                await to_room(room, {"type": "join", "room": room, "user": user})
            return True

        async def depart() -> None:
            if presence.leave(room, user, ws):
                await bus.emit("chat.left", {"room": room, "user": user})
                await to_room(room, {"type": "leave", "room": room, "user": user})

        if not await in_turn(room, arrive):
            return
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await say(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await say(ws, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            await in_turn(room, depart)
            who.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app
