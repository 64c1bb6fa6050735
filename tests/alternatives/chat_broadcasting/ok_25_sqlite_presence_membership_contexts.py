"""Style: presence is an in-memory sqlite3 table (names stored as code-point-ordered UTF-8 blobs), the broadcast collects results with asyncio.as_completed, and each connection's stay in a room is an async context manager whose room events are emitted after the room's lock is released.

Follows: "`valid_name(value) -> bool` | a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (isinstance str, 1 <= len <= 32, a frozenset of exactly those 64 characters: no regex, no `$`); "`parse_frame(message) -> dict` | one received frame -> `{"type": "ping"}` or `{"type": "message", "text": T}`, else `ValueError("<what is wrong>")`, and never any other exception" (binary when `message["text"]` is None, both ValueError and RecursionError of json.loads turned into ValueError, `type` compared only once it is a str, `text` a str of 1-2000 by len, other fields ignored); "`join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on 1 -> 0 (and harmless twice), `roster(room)`, `connections(room)`" (rows (room, user, conn id); a DELETE that finds no row returns False; the roster is SELECT DISTINCT ... ORDER BY the UTF-8 blob, which is code point order, as `sorted`; connections is a new list); "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame" (one json.dumps, list(conns), one wait_for per send, as_completed runs them all and waits for every one); "Always `await ws.accept()` first. If `room` or `user` is missing or invalid, send `{"type": "error", "code": "bad_request", ...}` and close with code **4400**"; "The new connection's first frame is the roster" and "every connection in the room (the joiner's too, after its roster) receives `{"type": "join", ...}`" on 0 -> 1 only; "`{"type": "leave", "room": R, "user": U}` to everyone still there" on 1 -> 0 only; "The route emits `room.message` ... a **listener** broadcasts it to every connection in the room, the sender included" and "`N` is a per-room counter starting at 1 ... it does **not** restart when the room empties" (a per-app dict of counters, bumped and broadcast under the room's lock, so every member sees the same order); "`{"type": "ping"}` is answered with `{"type": "pong"}`"; "the sender gets `{"type": "error", "code": "bad_frame", ...}`; the app emits `ws.error` ...; the connection **stays open**, and nobody else receives anything"; "A normal disconnect ... is a leave, **not** an error: never emit `ws.error` for it, and let no exception escape" (websocket.disconnect ends the loop, __aexit__ swallows WebSocketDisconnect, own sends catch everything); "A tab can be gone before its roster is sent" (its row is deleted quietly); "forget every one of them before announcing any of their leaves" and "the server closes it (code 1011, if it still can" (every failed row deleted first, closes run as tasks under a timeout, then the leaves go out one at a time, each broadcast dropping in turn); "a dropped or closed member's later clean-up must not announce the leave twice" (its DELETE finds no row).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and 1 <= len(value) <= 32 and NAME_CHARS.issuperset(value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON as text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    if "type" not in data:
        raise ValueError('the frame has no "type"')
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("message", "ping"):
        raise ValueError('unknown "type": use "message" or "ping"')
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError('a message needs a "text"')
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError('"text" must be a string')
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f'"text" must be 1 to {MAX_TEXT} characters long')
    return {"type": "message", "text": text}


def _blob(name: str) -> bytes:
    # UTF-8 keeps code point order under memcmp; surrogatepass keeps any str storable
    return name.encode("utf-8", "surrogatepass")


def _name(blob: bytes) -> str:
    return blob.decode("utf-8", "surrogatepass")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE TABLE tab (room BLOB NOT NULL, user BLOB NOT NULL, conn INTEGER NOT NULL,"
            " UNIQUE (room, user, conn))"
        )
        self._ids: dict[Hashable, int] = {}  # a connection -> its id in the table
        self._objects: dict[int, Hashable] = {}  # and back
        self._uses: dict[int, int] = {}  # how many rows name that id
        self._next = 0

    def _id(self, conn: Hashable) -> int:
        if conn not in self._ids:
            self._next += 1
            self._ids[conn] = self._next
            self._objects[self._next] = conn
            self._uses[self._next] = 0
        return self._ids[conn]

    def _count(self, room: str, user: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM tab WHERE room = ? AND user = ?", (_blob(room), _blob(user))
        ).fetchone()
        return int(row[0])

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        before = self._count(room, user)
        key = self._id(conn)
        added = self._db.execute(
            "INSERT OR IGNORE INTO tab (room, user, conn) VALUES (?, ?, ?)",
            (_blob(room), _blob(user), key),
        ).rowcount
        self._uses[key] += added
        if not self._uses[key]:
            self._release(key)
        return before == 0 and added == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = self._ids.get(conn)
        if key is None:
            return False
        removed = self._db.execute(
            "DELETE FROM tab WHERE room = ? AND user = ? AND conn = ?",
            (_blob(room), _blob(user), key),
        ).rowcount
        if not removed:
            return False
        self._uses[key] -= 1
        if not self._uses[key]:
            self._release(key)
        return self._count(room, user) == 0

    def _release(self, key: int) -> None:
        conn = self._objects.pop(key)
        del self._ids[conn], self._uses[key]

    def roster(self, room: str) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT user FROM tab WHERE room = ? ORDER BY user", (_blob(room),)
        )
        return [_name(user) for (user,) in rows]

    def connections(self, room: str) -> list[Hashable]:
        rows = self._db.execute("SELECT conn FROM tab WHERE room = ? ORDER BY rowid", (_blob(room),))
        return [self._objects[key] for (key,) in rows]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def attempt(index: int) -> tuple[int, bool]:
        try:
            await asyncio.wait_for(members[index].send_text(text), timeout)
        except Exception:
            return index, False
        return index, True

    failed: set[int] = set()
    for outcome in asyncio.as_completed([attempt(i) for i in range(len(members))]):
        index, sent = await outcome
        if not sent:
            failed.add(index)
    return [conn for index, conn in enumerate(members) if index in failed]


class Chat:
    """One app's rooms: presence, seq counters, a lock per room, events to emit."""

    def __init__(self, bus: Any, send_timeout: float) -> None:
        self.bus = bus
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.owner: dict[Any, str] = {}
        self.seq: defaultdict[str, int] = defaultdict(int)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.closing: set[asyncio.Task[None]] = set()

    async def emit_all(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        for name, payload in events:
            await self.bus.emit(name, payload)

    def hang_up(self, ws: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(ws.close(code=1011), self.send_timeout)
            except Exception:
                pass  # a member whose send raised is already gone

        task = asyncio.ensure_future(close())
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)

    async def send_room(self, room: str, frame: dict[str, Any],
                        events: list[tuple[str, dict[str, Any]]]) -> None:
        """Broadcast under the room's lock; drop the failures, queue their leaves."""
        frames = [frame]
        while frames:
            failed = await broadcast(self.presence.connections(room), frames.pop(0),
                                     timeout=self.send_timeout)
            left = []
            for ws in failed:  # forget all of them first
                user = self.owner.pop(ws, None)
                if user is not None and self.presence.leave(room, user, ws):
                    left.append(user)
                self.hang_up(ws)
            for user in left:
                events.append(("chat.left", {"room": room, "user": user}))
                frames.append({"type": "leave", "room": room, "user": user})

    async def relay(self, event: dict[str, Any]) -> None:
        room = event["room"]
        events: list[tuple[str, dict[str, Any]]] = []
        async with self.locks[room]:
            self.seq[room] += 1
            frame = {"type": "message", "room": room, "user": event["user"],
                     "text": event["text"], "seq": self.seq[room]}
            await self.send_room(room, frame, events)
        await self.emit_all(events)


class Membership:
    """``async with Membership(...) as here:`` joins a room; leaving the block leaves it."""

    def __init__(self, chat: Chat, ws: WebSocket, room: str, user: str) -> None:
        self.chat, self.ws, self.room, self.user = chat, ws, room, user
        self.active = False

    async def __aenter__(self) -> Membership:
        chat, room, user = self.chat, self.room, self.user
        events: list[tuple[str, dict[str, Any]]] = []
        async with chat.locks[room]:
            first = chat.presence.join(room, user, self.ws)
            chat.owner[self.ws] = user
            roster = {"type": "roster", "room": room, "users": chat.presence.roster(room)}
            if await broadcast([self.ws], roster, timeout=chat.send_timeout):
                chat.owner.pop(self.ws, None)
                chat.presence.leave(room, user, self.ws)  # gone before anyone heard of it
                chat.hang_up(self.ws)
                return self
            self.active = True
            if first:
                events.append(("chat.joined", {"room": room, "user": user}))
                await chat.send_room(room, {"type": "join", "room": room, "user": user}, events)
        await chat.emit_all(events)
        return self

    async def __aexit__(self, *exc_info: Any) -> bool:
        chat, room, user = self.chat, self.room, self.user
        events: list[tuple[str, dict[str, Any]]] = []
        async with chat.locks[room]:
            chat.owner.pop(self.ws, None)
            if chat.presence.leave(room, user, self.ws):
                events.append(("chat.left", {"room": room, "user": user}))
                await chat.send_room(room, {"type": "leave", "room": room, "user": user}, events)
        await chat.emit_all(events)
        return isinstance(exc_info[1], WebSocketDisconnect)  # a goodbye is not an error

    async def tell(self, frame: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(self.ws.send_text(json.dumps(frame)), self.chat.send_timeout)
        except Exception:
            pass  # gone or stalled: the receive loop ends, or a broadcast drops it

    async def serve(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                await self.tell({"type": "error", "code": "bad_frame", "message": str(exc)})
                await self.chat.bus.emit("ws.error",
                                         {"room": self.room, "user": self.user, "error": str(exc)})
                continue
            if command["type"] == "ping":
                await self.tell({"type": "pong"})
            else:
                await self.chat.bus.emit("room.message",
                                         {"room": self.room, "user": self.user,
                                          "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    chat = Chat(day25.install(app), send_timeout)
    chat.bus.on("room.message", chat.relay)

    @app.ws_route("/chat/{room}")
    async def chat_room(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = [f"{label} must be 1-32 characters of [A-Za-z0-9_.-]"
                    for label, value in (("room", room), ("user", user)) if not valid_name(value)]
        if problems:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "; ".join(problems)}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with Membership(chat, ws, room, user) as here:
            if here.active:
                await here.serve()

    return app
