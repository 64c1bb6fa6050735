"""Exercise 3: chat_broadcasting.

Closures and one mailbox per room instead of locks: everything that touches a
room (a tab entering, a message, a tab leaving) is a job queued in that room's
mailbox, and a pump task runs the room's jobs one at a time, then exits when the
mailbox is empty. The route and the room.message listener queue a job and await
its result, so a message is out before its sender's close is handled, and a
roster is taken when its job runs. broadcast() gives every member its own task
with its own asyncio.timeout; members it returns are forgotten together, closed
with 1011 by tasks of their own, and then the users who went 1 -> 0 are announced
(from inside the same job, so the announcement can drop members in turn).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"\A[A-Za-z0-9_.\-]{1,32}\Z")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
DROPPED_CLOSE = 1011
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and bool(NAME.match(value))


def _show(value: Any) -> str:
    shown = repr(value) if isinstance(value, (str, int, float, bool)) or value is None else (
        type(value).__name__)
    return shown if len(shown) <= 24 else shown[:21] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("a binary frame (send JSON as text)")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if type(data) is not dict:
        raise ValueError(f"a JSON {type(data).__name__}, not an object")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (kind == "message" and isinstance(kind, str)):
        raise ValueError("no type" if "type" not in data else f"unknown type {_show(kind)}")
    text = data.get("text")
    problem = (
        "the message has no text" if "text" not in data
        else f"the text is {_show(text)}, not a string" if not isinstance(text, str)
        else "the text is empty" if not text
        else f"the text has {len(text)} characters, more than {MAX_TEXT}"
        if len(text) > MAX_TEXT else None
    )
    if problem:
        raise ValueError(problem)
    return {"type": "message", "text": text}


class Presence:
    """room -> user -> that user's open connections."""

    def __init__(self) -> None:
        self.rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.setdefault(room, {})
        new = user not in users
        users.setdefault(user, set()).add(conn)
        return new

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self.rooms.get(room, {})
        if conn not in users.get(user, ()):
            return False
        users[user].remove(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            self.rooms.pop(room, None)
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self.rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for conns in self.rooms.get(room, {}).values():
            out.extend(conns)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns``, each send on its own clock; return the failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def took_it(conn: Any) -> bool:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:
            return False
        return True

    took = await asyncio.gather(*map(took_it, members))
    return [conn for conn, ok in zip(members, took) if not ok]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    owners: dict[tuple[str, int], str] = {}  # (room, id(ws)) -> user, while it is in the room
    seqs: dict[str, int] = {}
    mailboxes: dict[str, deque[tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any]]]] = {}
    pumps: dict[str, asyncio.Task[None]] = {}
    background: set[asyncio.Task[None]] = set()

    def keep(coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        background.add(task)
        task.add_done_callback(background.discard)

    async def pump(room: str) -> None:
        box = mailboxes[room]
        try:
            while box:
                job, done = box.popleft()
                try:
                    result = await job()
                except Exception as exc:
                    if not done.done():
                        done.set_exception(exc)
                else:
                    if not done.done():
                        done.set_result(result)
        finally:
            del pumps[room]

    def in_room(room: str, job: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        done = asyncio.get_running_loop().create_future()
        mailboxes.setdefault(room, deque()).append((job, done))
        if room not in pumps:
            pumps[room] = asyncio.ensure_future(pump(room))
        return done

    async def close_dropped(ws: Any) -> None:
        try:
            await ws.close(code=DROPPED_CLOSE)
        except Exception:
            pass

    async def send_room(room: str, frame: dict[str, Any]) -> None:  # inside a room job
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        pairs = [(ws, owners.pop((room, id(ws)))) for ws in failed if (room, id(ws)) in owners]
        left = [user for ws, user in pairs if presence.leave(room, user, ws)]
        for ws in failed:
            keep(close_dropped(ws))
        for user in left:
            await send_room(room, {"type": "leave", "room": room, "user": user})
            await events.emit("chat.left", {"room": room, "user": user})

    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]

        async def job() -> None:
            seqs[room] = seqs.get(room, 0) + 1
            await send_room(room, {"type": "message", "room": room, "user": payload["user"],
                                   "text": payload["text"], "seq": seqs[room]})

        await in_room(room, job)

    events.on("room.message", relay)

    async def to_sender(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.send_text(json.dumps(frame))
        except Exception:
            return False
        return True

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            what = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"missing or invalid {what} {_show(room if what == 'room' else user)}"
                               ": 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return

        async def enter() -> bool:
            first = presence.join(room, user, ws)
            owners[(room, id(ws))] = user
            if not await to_sender(ws, {"type": "roster", "room": room,
                                        "users": presence.roster(room)}):
                owners.pop((room, id(ws)), None)
                presence.leave(room, user, ws)
                return False
            if first:
                await send_room(room, {"type": "join", "room": room, "user": user})
                await events.emit("chat.joined", {"room": room, "user": user})
            return True

        async def leave() -> None:
            owners.pop((room, id(ws)), None)
            if presence.leave(room, user, ws):
                await send_room(room, {"type": "leave", "room": room, "user": user})
                await events.emit("chat.left", {"room": room, "user": user})

        if not await in_room(room, enter):
            return
        try:
            while (message := await _next_frame(ws)) is not None:
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await to_sender(ws, {"type": "error", "code": "bad_frame",
                                                "message": str(exc)}):
                        break
                    await events.emit("ws.error", {"room": room, "user": user,
                                                   "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    if not await to_sender(ws, {"type": "pong"}):
                        break
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        finally:
            await in_room(room, leave)

    return app


async def _next_frame(ws: WebSocket) -> dict[str, Any] | None:
    """The tab's next received message; None once it has disconnected (normally or not)."""
    try:
        message = await ws.receive()
    except (WebSocketDisconnect, RuntimeError, OSError):
        return None
    return message if message.get("type") == "websocket.receive" else None
