"""Exercise 4: notification_queueing. A notification is committed by the LOW audit listener, after the push.

BUG (planted): "a notification is committed to SQLite before it is pushed. If the app dies
between the two, a restart finds it in the backlog". Store.add() writes inside a transaction
that is committed only at the end of the pipeline (the LOW audit), "so that a notification is
visible only once every listener handled it"; while the MEDIUM push runs, the file does not
hold it, and an app that dies after the push loses a notification a tab already got.
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
        raise ValueError("a notification is a JSON object")
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
        raise ValueError("level must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("a frame must be JSON text, not binary")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('a frame must be an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.executescript(SCHEMA)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        note = {
            "id": uuid.uuid4().hex,
            "user": user,
            "title": fields["title"],
            "body": fields["body"],
            "level": fields["level"],
            "created_at": created,
            "expires_at": created + self.ttl_seconds,
        }
        with self._writing():  # committed by commit(), once the whole pipeline handled it
            self.db.execute(
                "INSERT INTO last_seq (user, seq) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            note["seq"] = seq
            self.db.execute(
                "INSERT INTO notifications (id, user, seq, title, body, level, created_at, "
                "expires_at) VALUES (:id, :user, :seq, :title, :body, :level, :created_at, "
                ":expires_at)",
                note,
            )
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
        return {k: note[k] for k in COLUMNS}

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """Write without committing: roll back on an error, commit() makes it durable."""
        try:
            yield
        except BaseException:
            self.db.rollback()
            raise

    def commit(self) -> None:
        self.db.commit()

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
        rows = self.db.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at "
            "FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now),
        ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self.db:
            cur = self.db.executemany(
                "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                [(user, i, now) for i in set(ids)],
            )
            return max(cur.rowcount, 0)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit = {"count": 0}

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            return False
        return True

    async def check(note: dict[str, Any]) -> None:
        try:
            note.update(validate(note))
        except ValueError:
            note["rejected"] = True
            raise

    async def store_and_push(note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        user = note["user"]
        async with lock_of(user):
            stored = store.add(user, note)
            note.update(stored)
            frame = {"type": "notification", **stored}
            tabs = list(live.get(user, ()))
            results = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in live.get(user, ()):
                    live[user].remove(ws)
            note["delivered"] = sum(results)

    def count(note: dict[str, Any]) -> None:
        if not note.get("rejected"):
            audit["count"] += 1
            store.commit()  # the end of the pipeline: make the notification durable

    events.on("notification.created", check, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
            fields = validate(data)
        except (ValueError, RecursionError) as exc:
            message = str(exc) if isinstance(exc, ValueError) and not isinstance(
                exc, (UnicodeDecodeError, json.JSONDecodeError)) else "invalid JSON"
            return res.json({"error": message}, status_code=422)
        note: dict[str, Any] = dict(fields)
        await events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await send(ws, {"type": "error", "code": "bad_request",
                            "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            try:
                await asyncio.wait_for(ws.close(BAD_REQUEST_CLOSE), send_timeout)
            except Exception:
                pass
            return
        async with lock_of(user):
            backlog = store.pending(user)
            sent = 0
            for note in backlog:
                if not await send(ws, {"type": "notification", **note}):
                    return
                sent += 1
            if not await send(ws, {"type": "backlog_end", "count": sent}):
                return
            live.setdefault(user, []).append(ws)
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                counted = store.ack(user, ids)
                await send(ws, {"type": "acked", "count": counted})
        except Exception:
            pass
        finally:
            tabs = live.get(user, [])
            if ws in tabs:
                tabs.remove(ws)
            if not tabs:
                live.pop(user, None)

    return app
