"""Bug: a body of exactly 2000 characters is refused (the limit test uses greater-or-equal).

Breaks: "body | text of at most 2000 characters | no" (at most 2000, so 2000 itself fits).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
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
SEND_TIMEOUT = 2.0


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with defaults, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z a-z 0-9 _ . -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if not _is_text(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) >= MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if not _is_text(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError (never anything else)."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    if data.get("type") != "ack":
        raise ValueError('the frame type must be "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if not all(_is_text(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


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
CREATE INDEX IF NOT EXISTS by_user_seq ON notifications (user, seq);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""
COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue in SQLite."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(SCHEMA)
        self.db.commit()

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        row = {"id": uuid.uuid4().hex, "seq": 0, "user": user, "title": fields["title"],
               "body": fields.get("body", ""), "level": fields.get("level", "normal"),
               "created_at": now, "expires_at": now + self.ttl}
        with self.db:
            self.db.execute(
                "INSERT INTO last_seq VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET seq = seq + 1", (user,))
            (row["seq"],) = self.db.execute(
                "SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            self.db.execute(
                f"INSERT INTO notifications ({', '.join(COLUMNS)}) VALUES "
                f"({', '.join('?' * len(COLUMNS))})", [row[c] for c in COLUMNS])
            self.db.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?",
                            (user, now))
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.cap))
        return row

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?",
                            (user, now))
            rows = self.db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notifications "
                "WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self.db:
            cur = self.db.executemany(
                "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                [(user, i, now) for i in set(ids)])
        return max(cur.rowcount, 0)


def _frame(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields})


class Hub:
    """Live tabs per user, with one lock per user."""

    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def join(self, user: str, ws: WebSocket) -> None:
        self.tabs.setdefault(user, []).append(ws)

    def leave(self, user: str, ws: WebSocket) -> None:
        tabs = self.tabs.get(user, [])
        if ws in tabs:
            tabs.remove(ws)

    async def _send(self, ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), self.send_timeout)
        except Exception:
            return False
        return True

    async def push(self, user: str, text: str) -> int:
        tabs = list(self.tabs.get(user, []))
        results = await asyncio.gather(*(self._send(ws, text) for ws in tabs))
        for ws, ok in zip(tabs, results):
            if not ok:
                self.leave(user, ws)
        return sum(results)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The notification service."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    hub = Hub(send_timeout)
    audit: list[str] = []

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with hub.lock(user):
            row = store.add(user, note)
            note["id"], note["seq"] = row["id"], row["seq"]
            note["delivered"] = await hub.push(user, _frame("notification", **row))

    def count(note: dict[str, Any]) -> None:
        audit.append(note.get("id", ""))

    bus.on("notification.created", enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        try:
            note: dict[str, Any] = dict(validate(data))
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await bus.emit("notification.created", note)
        if not result.ok or "id" not in note:
            return res.json({"error": "could not store the notification"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not NAME.fullmatch(user):
            await ws.send_text(_frame("error", code="bad_request",
                                      message="bad user name"))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with hub.lock(user):
                rows = store.pending(user)
                for row in rows:
                    await ws.send_text(_frame("notification", **row))
                await ws.send_text(_frame("backlog_end", count=len(rows)))
                hub.join(user, ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(_frame("error", code="bad_frame", message=str(exc)))
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_text(_frame("acked", count=store.ack(user, ids)))
        except Exception:
            pass  # the client went away: a normal disconnect, not an error
        finally:
            hub.leave(user, ws)

    return app
