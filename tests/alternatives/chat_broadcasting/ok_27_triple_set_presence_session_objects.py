"""Style: presence is one flat set of (room, user, connection) triples queried with comprehensions, each WebSocket is served by a Session object (admit / serve / finish), and broadcast waits for plain send tasks with one asyncio.wait deadline.

Follows: "`valid_name` | a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (type check, then NAME.fullmatch: no `$`, no `\\w`); "`parse_frame` ... `ValueError("<what is wrong>")`, and never any other exception" (binary, ValueError and RecursionError from json.loads, non-object, a `type` compared only once known to be a str, text a str of 1-2000 `len` characters); "`join` ... True on 0 -> 1, `leave` ... True on 1 -> 0 (and harmless twice) ... counted per room and user" (a triple is in the set or not; a user is present while any triple of theirs is); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled" (one json.dumps, one task per member of list(conns), asyncio.wait(timeout=...), the pending cancelled, the raised and the pending returned); "Always `await ws.accept()` first ... close with code **4400**"; "The new connection's first frame is the roster" and the join to everyone only on 0 -> 1 (Session.admit, under the room's lock); "`N` is a per-room counter starting at 1 ... does **not** restart" (a dict of counters never cleared); "Every member sees a room's frames in the same order" (every room frame is sent under that room's asyncio.Lock); "the sender gets ... bad_frame ..., the app emits `ws.error` ..., the connection **stays open**"; "A normal disconnect ... is a leave, **not** an error" (websocket.disconnect ends the loop, WebSocketDisconnect is caught); "forget every one of them before announcing any of their leaves" and "the server closes it (code 1011, if it still can)" (Room-wide drop: leave() for all, closes started in the background, then the leaves); "a dropped or closed member's later clean-up must not announce the leave twice" (leave() returns False the second time).
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
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frame: send JSON text frames")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise ValueError("type is missing or not a string")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown type {kind[:40]!r}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text is missing or not a string")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text has {len(text)} characters, at most {MAX_TEXT} are allowed")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room, kept as a set of (room, user, connection) triples."""

    def __init__(self) -> None:
        self._triples: set[tuple[str, str, Hashable]] = set()

    def _present(self, room: str, user: str) -> bool:
        return any(r == room and u == user for r, u, _ in self._triples)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        arrived = not self._present(room, user)
        self._triples.add((room, user, conn))
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        triple = (room, user, conn)
        if triple not in self._triples:
            return False
        self._triples.discard(triple)
        return not self._present(room, user)

    def roster(self, room: str) -> list[str]:
        return sorted({u for r, u, _ in self._triples if r == room})

    def connections(self, room: str) -> list[Hashable]:
        return [c for r, _, c in self._triples if r == room]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(member.send_text(text)) for member in members]
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)  # let the cancellations finish
    return [m for m, t in zip(members, tasks)
            if t in pending or t.cancelled() or t.exception() is not None]


class Chat:
    """One app's state: presence, each room's lock and seq, and the user of each socket."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.locks: dict[str, asyncio.Lock] = {}
        self.seqs: dict[str, int] = {}
        self.user_of: dict[Any, str] = {}
        self.closing: set[asyncio.Task[None]] = set()

    def lock(self, room: str) -> asyncio.Lock:
        return self.locks.setdefault(room, asyncio.Lock())

    async def to_room(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to ``room`` (its lock held); drop whoever the broadcast lost."""
        lost = await broadcast(self.presence.connections(room), frame, timeout=self.send_timeout)
        if lost:
            await self.drop(room, lost)

    async def drop(self, room: str, lost: list[Any]) -> None:
        gone = [self.user_of[c] for c in lost if self.presence.leave(room, self.user_of[c], c)]
        for conn in lost:
            task = asyncio.ensure_future(self.close_1011(conn))
            self.closing.add(task)
            task.add_done_callback(self.closing.discard)
        for user in gone:
            await self.app.events.emit("chat.left", {"room": room, "user": user})
            await self.to_room(room, {"type": "leave", "room": room, "user": user})

    async def close_1011(self, conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), self.send_timeout)
        except Exception:
            pass  # its send raised: it is gone already

    async def on_message(self, event: dict[str, Any]) -> None:
        room = event["room"]
        async with self.lock(room):
            self.seqs[room] = self.seqs.get(room, 0) + 1
            await self.to_room(room, {"type": "message", "room": room, "user": event["user"],
                                      "text": event["text"], "seq": self.seqs[room]})

    async def route(self, ws: WebSocket) -> None:
        await Session(self, ws).run()


class Session:
    """One WebSocket connection, from accept to its leave."""

    def __init__(self, chat: Chat, ws: WebSocket) -> None:
        self.chat = chat
        self.ws = ws
        self.room = ws.path_params.get("room")
        self.user = ws.query_params.get("user")

    async def reply(self, frame: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(frame))

    async def run(self) -> None:
        await self.ws.accept()
        if not await self.admit():
            return
        try:
            await self.serve()
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass  # the client went away, or the server closed it: a leave, not an error
        finally:
            await self.finish()

    async def admit(self) -> bool:
        problems = [f"{label} must be 1-32 characters of [A-Za-z0-9_.-]"
                    for label, value in (("room", self.room), ("user", self.user))
                    if not valid_name(value)]
        if problems:
            try:
                await self.reply({"type": "error", "code": "bad_request",
                                  "message": "; ".join(problems)})
                await self.ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return False
        chat, room, user = self.chat, self.room, self.user
        chat.user_of[self.ws] = user
        async with chat.lock(room):
            arrived = chat.presence.join(room, user, self.ws)
            try:
                await asyncio.wait_for(
                    self.reply({"type": "roster", "room": room,
                                "users": chat.presence.roster(room)}),
                    chat.send_timeout)
            except Exception:  # gone before its roster: gone from the room, silently
                chat.presence.leave(room, user, self.ws)
                chat.user_of.pop(self.ws, None)
                return False
            if arrived:
                await chat.app.events.emit("chat.joined", {"room": room, "user": user})
                await chat.to_room(room, {"type": "join", "room": room, "user": user})
        return True

    async def serve(self) -> None:
        events = self.chat.app.events
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await self.reply({"type": "error", "code": "bad_frame", "message": str(exc)})
                await events.emit("ws.error", {"room": self.room, "user": self.user,
                                               "error": str(exc)})
                continue
            if command["type"] == "ping":
                await self.reply({"type": "pong"})
            else:
                await events.emit("room.message", {"room": self.room, "user": self.user,
                                                   "text": command["text"]})

    async def finish(self) -> None:
        chat, room, user = self.chat, self.room, self.user
        async with chat.lock(room):
            if chat.presence.leave(room, user, self.ws):
                await chat.app.events.emit("chat.left", {"room": room, "user": user})
                await chat.to_room(room, {"type": "leave", "room": room, "user": user})
        chat.user_of.pop(self.ws, None)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    chat = Chat(app, send_timeout)
    app.events.on("room.message", chat.on_message)
    app.ws_route("/chat/{room}")(chat.route)
    return app
