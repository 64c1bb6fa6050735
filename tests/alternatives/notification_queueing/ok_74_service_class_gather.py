"""Exercise 4: notification_queueing.

A ``NotificationService`` class owns the store, the live tabs and the per-user locks;
its bound methods are the listeners. Validation happens only in the HIGH listener
(the route answers 422 from the emit's errors). The Store runs in autocommit mode
with explicit ``BEGIN IMMEDIATE``/``COMMIT`` blocks, keeps the next seq of each user in
a table of its own, caps by rank (``LIMIT -1 OFFSET max``), and acks in chunks.
Live pushes go out to every tab at once (``asyncio.gather``), each bounded by
``send_timeout``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
ACK_CHUNK = 500


def _is_text(value: str) -> bool:
    """False for a string holding a lone surrogate (not encodable as UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is missing")
    user = data["user"]
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user is not 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is missing")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title is not a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title is not 1-{MAX_TITLE} characters long")
    if all(ch.isspace() for ch in title):
        raise ValueError("title is only whitespace")
    if not _is_text(title):
        raise ValueError("title is not text (a lone surrogate)")
    fields = {"user": user, "title": title, "body": "", "level": "normal"}
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str):
            raise ValueError("body is not a string")
        if len(body) > MAX_BODY:
            raise ValueError(f"body is longer than {MAX_BODY} characters")
        if not _is_text(body):
            raise ValueError("body is not text (a lone surrogate)")
        fields["body"] = body
    if "level" in data:
        level = data["level"]
        if not isinstance(level, str) or level not in LEVELS:
            raise ValueError('level is not exactly "low", "normal" or "high"')
        fields["level"] = level
    return fields


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict):
        raise ValueError("not a WebSocket message")
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    if not isinstance(text, str):
        raise ValueError("the frame holds no text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON ({type(exc).__name__})") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame is not a JSON object")
    if frame.get("type") != "ack" or not isinstance(frame.get("type"), str):
        raise ValueError('the frame\'s type is not "ack"')
    if "ids" not in frame:
        raise ValueError("the ack has no ids")
    ids = frame["ids"]
    if not isinstance(ids, list):
        raise ValueError("ids is not a list")
    for item in ids:
        if not isinstance(item, str):
            raise ValueError("ids holds something other than a string")
        if not _is_text(item):
            raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        with self._write() as db:
            db.execute("CREATE TABLE IF NOT EXISTS next_seq ("
                       "user TEXT PRIMARY KEY, next INTEGER NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS queue ("
                       "id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL, "
                       "title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL, "
                       "created_at REAL NOT NULL, expires_at REAL NOT NULL, UNIQUE (user, seq))")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    def _purge(self, db: sqlite3.Connection, user: str, now: float) -> None:
        db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        with self._write() as db:
            row = db.execute("SELECT next FROM next_seq WHERE user = ?", (user,)).fetchone()
            seq = row[0] if row else 1
            db.execute("INSERT OR REPLACE INTO next_seq (user, next) VALUES (?, ?)",
                       (user, seq + 1))
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"), "created_at": created,
                    "expires_at": created + self.ttl_seconds}
            db.execute(f"INSERT INTO queue ({', '.join(COLUMNS)}) VALUES "
                       f"({', '.join('?' * len(COLUMNS))})", [note[c] for c in COLUMNS])
            self._purge(db, user, created)
            db.execute("DELETE FROM queue WHERE id IN (SELECT id FROM queue WHERE user = ? "
                       "ORDER BY seq DESC LIMIT -1 OFFSET ?)", (user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._write() as db:
            self._purge(db, user, now)
            rows = db.execute(f"SELECT {', '.join(COLUMNS)} FROM queue WHERE user = ? "
                              "AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        removed = 0
        with self._write() as db:
            for start in range(0, len(wanted), ACK_CHUNK):
                chunk = wanted[start:start + ACK_CHUNK]
                marks = ", ".join("?" * len(chunk))
                cur = db.execute(f"DELETE FROM queue WHERE user = ? AND expires_at > ? "
                                 f"AND id IN ({marks})", (user, now, *chunk))
                removed += cur.rowcount
        return removed


class NotificationService:
    """The state of one app: its store, its live tabs and one lock per user."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.live: dict[str, set[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audited = 0

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def _try(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(self.send(ws, frame), self.send_timeout)
        except Exception:
            return False
        return True

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        tabs = list(self.live.get(user, ()))
        results = await asyncio.gather(*(self._try(ws, frame) for ws in tabs))
        for ws, ok in zip(tabs, results):
            if not ok:
                self.live.get(user, set()).discard(ws)
        return sum(results)

    # listeners of notification.created
    def check(self, note: dict[str, Any]) -> None:
        try:
            fields = validate(note)
        except ValueError:
            note["rejected"] = True
            raise
        note.clear()
        note.update(fields)

    async def deliver(self, note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        async with self.lock(note["user"]):
            stored = self.store.add(note["user"], note)
            note.update(stored)
            note["delivered"] = await self.push(note["user"], {"type": "notification", **stored})

    def audit(self, note: dict[str, Any]) -> None:
        if not note.get("rejected"):
            self.audited += 1

    # routes
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON text"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "the notification must be a JSON object"}, status_code=422)
        note = dict(data)
        result = await self.events.emit("notification.created", note)
        if "seq" not in note:
            refused = [e for e in result.errors if isinstance(e, ValueError)]
            reason = str(refused[0]) if refused else "the notification was not stored"
            return res.json({"error": reason}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    async def tab(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await self.send(ws, {"type": "error", "code": "bad_request",
                                 "message": f"bad user name {user!r}"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                notes = self.store.pending(user)
                for note in notes:
                    await self.send(ws, {"type": "notification", **note})
                await self.send(ws, {"type": "backlog_end", "count": len(notes)})
                self.live.setdefault(user, set()).add(ws)
            await self.listen(user, ws)
        except (WebSocketDisconnect, OSError):
            pass
        finally:
            self.live.get(user, set()).discard(ws)

    async def listen(self, user: str, ws: WebSocket) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                ids = parse_ack(message)
            except ValueError as exc:
                await self.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                continue
            await self.send(ws, {"type": "acked", "count": self.store.ack(user, ids)})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``, ``POST /notifications``
    and the ``/notifications/{user}`` WebSocket route."""
    app = NexiosApp()
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    service = NotificationService(app, store, send_timeout)
    service.events.on("notification.created", service.check, priority=EventPriority.HIGH)
    service.events.on("notification.created", service.deliver, priority=EventPriority.MEDIUM)
    service.events.on("notification.created", service.audit, priority=EventPriority.LOW)
    app.post("/notifications")(service.create)
    app.ws_route("/notifications/{user}")(service.tab)
    return app
