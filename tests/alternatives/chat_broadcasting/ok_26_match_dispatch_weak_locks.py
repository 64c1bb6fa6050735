"""Style: structural pattern matching decides every frame, presence keeps two indexes ((room, user) -> tabs, room -> users) in insertion-ordered dicts, room locks live in a WeakValueDictionary, commands go through a dispatch table of functools.partial handlers, and broadcast runs one task per member under asyncio.timeout and collects them with asyncio.wait.

Follows: "`valid_name(value) -> bool` | a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (`case str()` plus NAME.fullmatch: fullmatch has no `$` problem and the class is ASCII only); "`parse_frame(message) -> dict` | one received frame -> `{"type": "ping"}` or `{"type": "message", "text": T}`, else `ValueError("<what is wrong>")`, and never any other exception" (`case {"text": str()}` or it is binary; json.loads guarded for ValueError and RecursionError; `case {"type": str() as kind}` guards compare kind only once it is a str, so a list or object `type` is never hashed; the length guard counts len(text); other keys are ignored); "`join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on 1 -> 0 (and harmless twice), `roster(room)`, `connections(room)`" ((room, user) -> tabs and room -> users, both updated together; roster is sorted(users); connections a new list); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame" (one json.dumps, list(conns), a task per member inside its own asyncio.timeout, asyncio.wait for all of them); "When a **user** goes from 0 to 1 connections in the room, every connection in the room (the joiner's too, after its roster) receives `{"type": "join", ...}`" and "When a user goes from 1 to 0 connections: `{"type": "leave", ...}` to everyone still there", with `chat.joined` / `chat.left`; "`N` is a per-room counter starting at 1, kept for as long as the server runs" (a per-app dict of counters, never deleted; the weakly held lock only serialises, it holds no state); "Every member sees a room's frames in the same order, and `seq` agrees with that order" (every room frame goes out under that room's lock); "`{"type": "ping"}` is answered with `{"type": "pong"}`" (the dispatch table); "the sender gets `{"type": "error", "code": "bad_frame", ...}`; the app emits `ws.error` ...; the connection **stays open**"; "A normal disconnect ... never emit `ws.error` for it, and let no exception escape your handler for it" and "A tab can be gone before its roster is sent" (the roster is a broadcast to that tab alone; a failure forgets it quietly); "forget every one of them before announcing any of their leaves ... the room waits one `send_timeout` for them, not one per member" and "the server closes it (code 1011, if it still can" (closes run as tasks under a timeout).
"""

from __future__ import annotations

import asyncio
import enum
import functools
import json
import re
import weakref
from collections.abc import Awaitable, Callable, Hashable, Iterable
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


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    match message:
        case {"text": str() as raw}:
            pass
        case _:
            raise ValueError("binary frames are not accepted: send JSON as text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    match data:
        case {"type": str() as kind} if kind == "ping":
            return {"type": "ping"}
        case {"type": str() as kind, "text": str() as text} if kind == "message":
            if not text:
                raise ValueError('"text" must not be empty')
            if len(text) > MAX_TEXT:
                raise ValueError(f'"text" is {len(text)} characters long; at most {MAX_TEXT}')
            return {"type": "message", "text": text}
        case {"type": str() as kind, "text": _} if kind == "message":
            raise ValueError('"text" must be a string')
        case {"type": str() as kind} if kind == "message":
            raise ValueError('a message needs a "text"')
        case {"type": _}:
            raise ValueError('unknown "type": expected "message" or "ping"')
        case dict():
            raise ValueError('the frame has no "type"')
        case _:
            raise ValueError("the frame must be a JSON object")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], dict[Hashable, None]] = {}
        self._users: dict[str, dict[str, None]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.setdefault((room, user), {})
        tabs[conn] = None
        self._users.setdefault(room, {})[user] = None
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.get((room, user))
        if tabs is None or conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del self._tabs[room, user]
        users = self._users[room]
        del users[user]
        if not users:
            del self._users[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for user in self._users.get(room, ()) for conn in self._tabs[room, user]]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        async with asyncio.timeout(timeout):
            await conn.send_text(text)

    loop = asyncio.get_running_loop()
    tasks = [loop.create_task(send(conn)) for conn in members]
    try:
        await asyncio.wait(tasks)
    finally:
        for task in tasks:
            task.cancel()  # only does something if we ourselves were cancelled
    return [conn for conn, task in zip(members, tasks)
            if task.cancelled() or task.exception() is not None]


class Announcement(enum.Enum):
    JOIN = ("join", "chat.joined")
    LEAVE = ("leave", "chat.left")

    def frame(self, room: str, user: str) -> dict[str, Any]:
        return {"type": self.value[0], "room": room, "user": user}

    @property
    def event(self) -> str:
        return self.value[1]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    owners: dict[Any, str] = {}
    counters: dict[str, int] = {}
    locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
    closing: set[asyncio.Task[None]] = set()

    def lock_of(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def close_dropped(ws: Any) -> None:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.close(code=1011)
        except Exception:
            pass

    def hang_up(ws: Any) -> None:
        task = asyncio.ensure_future(close_dropped(ws))
        closing.add(task)
        task.add_done_callback(closing.discard)

    async def fan_out(room: str, frame: dict[str, Any]) -> None:
        """Send to the room (lock held); drop failures together, then announce them."""
        outbox = [frame]
        while outbox:
            failed = await broadcast(presence.connections(room), outbox.pop(0), timeout=send_timeout)
            left = []
            for ws in failed:  # forget every failed member before announcing anyone
                user = owners.pop(ws, None)
                if user is not None and presence.leave(room, user, ws):
                    left.append(user)
                hang_up(ws)
            for user in left:
                await bus.emit(Announcement.LEAVE.event, {"room": room, "user": user})
                outbox.append(Announcement.LEAVE.frame(room, user))

    async def relay(event: dict[str, Any]) -> None:
        room = event["room"]
        async with lock_of(room):
            counters[room] = counters.get(room, 0) + 1
            await fan_out(room, {"type": "message", "room": room, "user": event["user"],
                                 "text": event["text"], "seq": counters[room]})

    bus.on("room.message", relay)

    async def private(ws: WebSocket, frame: dict[str, Any]) -> None:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.send_text(json.dumps(frame))
        except Exception:
            pass  # gone or stalled: its receive loop or a broadcast deals with it

    async def on_ping(ws: WebSocket, room: str, user: str, command: dict[str, Any]) -> None:
        await private(ws, {"type": "pong"})

    async def on_message(ws: WebSocket, room: str, user: str, command: dict[str, Any]) -> None:
        await bus.emit("room.message", {"room": room, "user": user, "text": command["text"]})

    Handler = Callable[[dict[str, Any]], Awaitable[None]]

    async def enter(ws: WebSocket, room: str, user: str) -> bool:
        async with lock_of(room):
            first = presence.join(room, user, ws)
            owners[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            if await broadcast([ws], roster, timeout=send_timeout):
                owners.pop(ws, None)
                presence.leave(room, user, ws)  # nobody heard of this tab yet
                hang_up(ws)
                return False
            if first:
                await bus.emit(Announcement.JOIN.event, {"room": room, "user": user})
                await fan_out(room, Announcement.JOIN.frame(room, user))
        return True

    async def leave(ws: WebSocket, room: str, user: str) -> None:
        async with lock_of(room):
            owners.pop(ws, None)
            if presence.leave(room, user, ws):
                await bus.emit(Announcement.LEAVE.event, {"room": room, "user": user})
                await fan_out(room, Announcement.LEAVE.frame(room, user))

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        match (valid_name(room), valid_name(user)):
            case (True, True):
                pass
            case (room_ok, _):
                problem = ("user must be 1-32 characters of [A-Za-z0-9_.-]" if room_ok
                           else "room must be 1-32 characters of [A-Za-z0-9_.-]")
                try:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_request", "message": problem}))
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        handlers: dict[str, Handler] = {
            "ping": functools.partial(on_ping, ws, room, user),
            "message": functools.partial(on_message, ws, room, user),
        }
        try:
            if not await enter(ws, room, user):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await private(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                await handlers[command["type"]](command)
        except WebSocketDisconnect:
            pass
        finally:
            await leave(ws, room, user)

    return app
