"""Exercise 4: notification_queueing.

A class-based design: a NotificationService object owns the Store, the live tabs and
one asyncio.Lock per user, and its bound methods are the bus listeners and the routes.
The route only checks that the body is a JSON object: the HIGH listener validates (the
route answers 422 from the emit's error) and the MEDIUM one skips what it refused; the Store opens a short-lived SQLite connection per operation inside an explicit
BEGIN IMMEDIATE transaction, a push starts one task per tab and waits for all of them
with asyncio.wait(timeout=send_timeout) (cancelling the late ones), and every backlog
send is bounded too: a tab that runs out of time during its backlog is dead (no
backlog_end, never live).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

import day25
from day25 import EventPriority
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _text_ok(value: str) -> bool:
    """False for a string holding a lone surrogate (not text, never UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user: 1-32 characters of A-Z a-z 0-9 _ . -")
    title = data.get("title")
    if not isinstance(title, str):
        raise ValueError("title: a string is required")
    if not (1 <= len(title) <= MAX_TITLE) or title.isspace():
        raise ValueError(f"title: 1-{MAX_TITLE} characters, not only whitespace")
    if not _text_ok(title):
        raise ValueError("title: a lone surrogate is not text")
    result = {"user": user, "title": title, "body": "", "level": "normal"}
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str) or len(body) > MAX_BODY:
            raise ValueError(f"body: a string of at most {MAX_BODY} characters")
        if not _text_ok(body):
            raise ValueError("body: a lone surrogate is not text")
        result["body"] = body
    if "level" in data:
        level = data["level"]
        if not (isinstance(level, str) and level in LEVELS):
            raise ValueError("level: one of low, normal, high")
        result["level"] = level
    return result


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if message.get("text") is None:
        raise ValueError("a binary frame: frames are JSON text")
    try:
        frame = json.loads(message["text"])
    except (ValueError, TypeError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not isinstance(item, str):
            raise ValueError("ids must be strings")
        if not _text_ok(item):
            raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.path = path
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        with self._transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
                " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            db.execute("CREATE INDEX IF NOT EXISTS queue_by_user ON queue (user, seq)")
            db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """A connection of its own, in one write transaction: committed or rolled back,
        then closed, so no transaction outlives the call."""
        db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with its id, seq and times."""
        with self._transaction() as db:
            (seq,) = db.execute(
                "INSERT INTO counters (user, last) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET last = last + 1 RETURNING last",
                (user,),
            ).fetchone()
            created = time.time()
            note = {
                "id": str(uuid.uuid4()),
                "seq": seq,
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": created,
                "expires_at": created + self.ttl_seconds,
            }
            db.execute(f"INSERT INTO queue ({', '.join(FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [note[k] for k in FIELDS])
            db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, created))
            kept = db.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (user, max(self.max_per_user, 0)),
            ).fetchone()
            if kept is not None:  # more than max_per_user: drop the oldest
                db.execute("DELETE FROM queue WHERE user = ? AND seq <= ?", (user, kept[0]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self._transaction() as db:
            now = time.time()
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute(
                f"SELECT {', '.join(FIELDS)} FROM queue WHERE user = ? AND expires_at > ? "
                "ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending ones."""
        unique = set(ids)
        if not unique:
            return 0
        with self._transaction() as db:
            now = time.time()
            gone = 0
            for one in unique:
                cursor = db.execute(
                    "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                    (one, user, now),
                )
                gone += cursor.rowcount
        return gone


class NotificationService:
    """One app's state: its store, its live tabs and its per-user locks."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.bus = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, dict[WebSocket, None]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audit_count = 0
        self.bus.on("notification.created", self.check, priority=EventPriority.HIGH)
        self.bus.on("notification.created", self.keep_and_push, priority=EventPriority.MEDIUM)
        self.bus.on("notification.created", self.audit, priority=EventPriority.LOW)
        app.post("/notifications")(self.create)
        app.ws_route("/notifications/{user}")(self.connect)

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    # -- listeners ---------------------------------------------------------------
    def check(self, note: Any) -> None:
        """HIGH: validate, fill the defaults in."""
        note.update(validate(note))

    async def keep_and_push(self, note: Any) -> None:
        """MEDIUM: commit, then push to the user's live tabs."""
        try:
            clean = validate(note)  # refused by check(): the error is already the emit's
        except ValueError:
            return
        user = clean["user"]
        async with self.lock(user):
            stored = self.store.add(user, clean)
            note.update(id=stored["id"], seq=stored["seq"], created_at=stored["created_at"],
                        expires_at=stored["expires_at"])
            note["delivered"] = await self.push(user, stored)

    def audit(self, note: Any) -> None:
        """LOW: count what was stored."""
        if isinstance(note, dict) and "seq" in note:
            self.audit_count += 1

    # -- sending -------------------------------------------------------------------
    @staticmethod
    def frame(note: dict[str, Any]) -> str:
        return json.dumps({"type": "notification", **{k: note[k] for k in FIELDS}})

    async def push(self, user: str, note: dict[str, Any]) -> int:
        tabs = list(self.tabs.get(user, {}))
        if not tabs:
            return 0
        text = self.frame(note)
        sends = {asyncio.ensure_future(ws.send_text(text)): ws for ws in tabs}
        done, late = await asyncio.wait(sends, timeout=self.send_timeout)
        for task in late:
            task.cancel()
        reached = 0
        for task, ws in sends.items():
            if task in done and not task.cancelled() and task.exception() is None:
                reached += 1
            else:
                self.tabs.get(user, {}).pop(ws, None)
        if late:
            await asyncio.gather(*late, return_exceptions=True)
        return reached

    async def send(self, ws: WebSocket, payload: dict[str, Any] | str) -> None:
        text = payload if isinstance(payload, str) else json.dumps(payload)
        async with asyncio.timeout(self.send_timeout):
            await ws.send_text(text)

    # -- routes ----------------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = await req.json
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note: dict[str, Any] = data  # validated (and completed) by the HIGH listener
        result = await self.bus.emit("notification.created", note)
        if "seq" not in note:
            refused = [e for e in result.errors if isinstance(e, ValueError)]
            message = str(refused[0]) if refused else "the notification was not stored"
            return res.json({"error": message}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            with contextlib.suppress(Exception):
                await self.send(ws, {"type": "error", "code": "bad_request",
                                     "message": "the user name must be 1-32 of [A-Za-z0-9_.-]"})
                async with asyncio.timeout(self.send_timeout):
                    await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                try:
                    for note in backlog:
                        await self.send(ws, self.frame(note))
                    await self.send(ws, {"type": "backlog_end", "count": len(backlog)})
                except TimeoutError:
                    return  # dead during its backlog: nothing more, never live
                self.tabs.setdefault(user, {})[ws] = None
            await self.listen(ws, user)
        except Exception:
            return  # the client went away
        finally:
            self.tabs.get(user, {}).pop(ws, None)

    async def listen(self, ws: WebSocket, user: str) -> None:
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect":
                return
            try:
                ids = parse_ack(message)
            except ValueError as exc:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                               "message": str(exc)}))
                with contextlib.suppress(Exception):
                    await self.bus.emit("ws.error", {"user": user, "error": str(exc)})
                continue
            count = self.store.ack(user, ids)
            await ws.send_text(json.dumps({"type": "acked", "count": count}))


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
    app.notifications = NotificationService(app, store, send_timeout)  # type: ignore[attr-defined]
    return app
