"""Exercise 4: notification_queueing. The backlog is read before waiting for the user's lock, then sent after it.

BUG (planted): "Every open tab of the user receives every live notification." (with "a
tab still receiving its backlog (which then includes this notification)"). On connect the
handler reads store.pending(user) first and only then waits for the user's lock to send
the backlog and join the live tabs. If the lock is busy (a push waiting on a slow tab),
a notification stored in between is in neither: not in the backlog already read, and
pushed while the tab was not live yet. The tab never gets it in this session.
"""


from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
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

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_user_seq ON notifications (user, seq);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""
COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be a string of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError('level must be exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('the frame must be an object whose type is "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        with self._lock:
            self._db.executescript(SCHEMA)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO last_seq (user, seq) VALUES (?, 1) "
                    "ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                    (user,),
                )
                (seq,) = db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
                now = time.time()
                note = {
                    "id": uuid.uuid4().hex,
                    "seq": seq,
                    "user": user,
                    "title": fields["title"],
                    "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": now,
                    "expires_at": now + self.ttl_seconds,
                }
                db.execute(
                    f"INSERT INTO notifications ({', '.join(COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    tuple(note[c] for c in COLUMNS),
                )
                db.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?", (user, now))
                db.execute(
                    "DELETE FROM notifications WHERE user = ? AND id NOT IN ("
                    " SELECT id FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                    (user, user, max(self.max_per_user, 0)),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self._lock:
            now = time.time()
            db = self._db
            db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))  # autocommit
            rows = db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notifications "
                "WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending ones."""
        wanted = list(dict.fromkeys(ids))
        with self._lock:
            now = time.time()
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                count = 0
                for note_id in wanted:
                    count += db.execute(
                        "DELETE FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
                        (note_id, user, now),
                    ).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return count


def _frame(note: dict[str, Any]) -> str:
    return json.dumps({"type": "notification", **{c: note[c] for c in COLUMNS}})


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
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = defaultdict(list)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit = {"created": 0}

    async def send_bounded(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
        except Exception:
            return False
        return True

    async def push(user: str, note: dict[str, Any]) -> int:
        tabs = list(live[user])
        if not tabs:
            return 0
        text = _frame(note)
        results = await asyncio.gather(*(send_bounded(ws, text) for ws in tabs))
        for ws, ok in zip(tabs, results):
            if not ok and ws in live[user]:
                live[user].remove(ws)
        return sum(results)

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        try:
            fields = validate(note)
        except ValueError:
            return  # refused by the HIGH listener: nothing stored
        user = fields["user"]
        async with locks[user]:
            stored = store.add(user, fields)  # committed before it is pushed
            note["id"], note["seq"] = stored["id"], stored["seq"]
            note["created_at"], note["expires_at"] = stored["created_at"], stored["expires_at"]
            note["delivered"] = await push(user, stored)

    def count_it(note: dict[str, Any]) -> None:
        if "seq" in note:
            audit["created"] += 1

    bus.on("notification.created", enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", count_it, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
            note: dict[str, Any] = dict(validate(data))
        except (ValueError, RecursionError) as exc:
            message = str(exc) if isinstance(exc, ValueError) and not isinstance(
                exc, (json.JSONDecodeError, UnicodeDecodeError)) else "the body is not valid JSON"
            return res.json({"error": message}, status_code=422)
        await bus.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "bad user name"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            backlog = store.pending(user)  # read at once; the lock only orders the sends
            async with locks[user]:
                for note in backlog:
                    await ws.send_text(_frame(note))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
                live[user].append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    error = str(exc)
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": error}))
                    try:
                        await bus.emit("ws.error", {"user": user, "error": error})
                    except Exception:
                        pass
                    continue
                count = store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except Exception:
            pass  # the tab went away: a normal disconnect
        finally:
            if ws in live[user]:
                live[user].remove(ws)

    return app
