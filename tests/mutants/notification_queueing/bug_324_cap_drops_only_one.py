"""Exercise 4: notification_queueing. Over the cap, add drops only the single oldest row.

BUG (planted): "at most `max_per_user` unacknowledged notifications are kept per user" and "Each
`create_app` call works with its own `ttl_seconds` and `max_per_user`". add deletes one row (the
lowest seq) when the user has more than max_per_user; that is enough when every add goes through
the same cap, but after a restart with a smaller max_per_user the queue stays over the cap.
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

from nexios import NexiosApp
from nexios.websockets import WebSocket

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


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
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must have 1-{MAX_TITLE} characters")
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
        raise ValueError("level must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str):
            raise ValueError("a binary frame: send JSON text")
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("the frame is nested too deep to parse") from None
        except ValueError as exc:
            raise ValueError(f"the frame is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("type") != "ack":
            raise ValueError('the frame must be an object whose type is "ack"')
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # never anything but ValueError
        raise ValueError(f"malformed frame: {type(exc).__name__}") from None


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


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        with self._lock, self._db:
            self._db.executescript(SCHEMA)

    def _purge(self, now: float) -> None:
        with self._db:
            self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        with self._lock:
            now = time.time()
            note = {
                "id": uuid.uuid4().hex,
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now,
                "expires_at": now + self.ttl_seconds,
            }
            with self._db:
                self._db.execute(
                    "INSERT INTO last_seq (user, seq) VALUES (?, 1) "
                    "ON CONFLICT (user) DO UPDATE SET seq = seq + 1", (user,))
                (note["seq"],) = self._db.execute(
                    "SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
                self._db.execute(
                    "INSERT INTO notifications (id, user, seq, title, body, level, created_at, "
                    "expires_at) VALUES (:id, :user, :seq, :title, :body, :level, :created_at, "
                    ":expires_at)", note)
                self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
                (kept,) = self._db.execute(
                    "SELECT COUNT(*) FROM notifications WHERE user = ?", (user,)).fetchone()
                if kept > self.max_per_user:  # the new one made it one too many
                    self._db.execute(
                        "DELETE FROM notifications WHERE user = ? AND seq = "
                        "(SELECT MIN(seq) FROM notifications WHERE user = ?)", (user, user))
            return {k: note[k] for k in COLUMNS}

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self._lock:
            now = time.time()
            self._purge(now)
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notifications "
                "WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
            return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        with self._lock:
            now = time.time()
            with self._db:
                cur = self._db.executemany(
                    "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                    [(user, i, now) for i in dict.fromkeys(ids)])
                return max(cur.rowcount, 0)


def _frame(note: dict[str, Any]) -> str:
    return json.dumps({"type": "notification", **{k: note[k] for k in COLUMNS}})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, list[WebSocket]] = defaultdict(list)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit = {"created": 0}

    async def send(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
            return True
        except Exception:
            return False

    def check(note: dict[str, Any]) -> None:  # HIGH: validate, fill the defaults
        clean = validate(note)
        note.update(clean)

    async def store_and_push(note: dict[str, Any]) -> None:  # MEDIUM
        try:
            fields = validate(note)
        except ValueError:
            return  # refused by the HIGH listener already
        user = fields["user"]
        async with locks[user]:
            stored = store.add(user, fields)
            note.update(id=stored["id"], seq=stored["seq"])
            text = _frame(stored)
            delivered = 0
            for ws in list(tabs[user]):
                if await send(ws, text):
                    delivered += 1
                elif ws in tabs[user]:
                    tabs[user].remove(ws)
            note["delivered"] = delivered

    def count(note: dict[str, Any]) -> None:  # LOW: audit
        if "id" in note:
            audit["created"] += 1

    app.events.on("notification.created", check, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": f"invalid JSON: {type(exc).__name__}"}, status_code=422)
        try:
            note = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await app.events.emit("notification.created", note)
        if "id" not in note:
            errors = getattr(result, "errors", ())
            return res.json({"error": str(errors[0]) if errors else "not stored"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await send(ws, json.dumps({"type": "error", "code": "bad_request",
                                       "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"}))
            try:
                await asyncio.wait_for(ws.close(BAD_REQUEST_CLOSE), send_timeout)
            except Exception:
                pass
            return
        live = False
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    if not await send(ws, _frame(note)):
                        return
                if not await send(ws, json.dumps({"type": "backlog_end", "count": len(backlog)})):
                    return
                tabs[user].append(ws)
                live = True
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, json.dumps({"type": "error", "code": "bad_frame",
                                               "message": str(exc)}))
                    try:
                        await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    except Exception:
                        pass
                    continue
                acked = store.ack(user, ids)
                await send(ws, json.dumps({"type": "acked", "count": acked}))
        except Exception:
            pass  # a disconnect: not an error
        finally:
            if live and ws in tabs[user]:
                tabs[user].remove(ws)

    return app
