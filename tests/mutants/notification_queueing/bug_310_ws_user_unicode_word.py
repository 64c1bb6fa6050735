"""Exercise 4: notification_queueing. The WebSocket route checks the name with a \\w pattern.

BUG (planted): "a bad user name gets `{"type": "error", "code": "bad_request", ...}` and
close code **4400**" (a user is "1-32 characters of `[A-Za-z0-9_.-]`, nothing else"). The
WebSocket route checks the path with `[\\w.-]{1,32}`, and \\w also matches non-ASCII letters
and digits, so a client opening /notifications/josé or /notifications/١٢ gets a backlog_end
and a live socket instead of bad_request and close code 4400.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
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

SURROGATE = re.compile(r"[\ud800-\udfff]")
USER_IN_PATH = re.compile(r"[\w.-]{1,32}")  # letters, digits, _ . -


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
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    if SURROGATE.search(title) or SURROGATE.search(body):
        raise ValueError("title and body must be text (no lone surrogates)")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError('level must be "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("expected a text frame")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(SURROGATE.search(i) for i in ids):
        raise ValueError("ids must be text (no lone surrogates)")
    return ids


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, seq INTEGER,"
            " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        now = time.time()
        note = {"id": uuid.uuid4().hex, "seq": 0, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds}
        with self.db:  # one transaction, committed on exit
            self.db.execute("BEGIN IMMEDIATE")
            self.db.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1)"
                " ON CONFLICT(user) DO UPDATE SET seq = seq + 1", (user,))
            (note["seq"],) = self.db.execute(
                "SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            self.db.execute(
                f"INSERT INTO notifications ({', '.join(COLUMNS)}) VALUES (?,?,?,?,?,?,?,?)",
                [note[c] for c in COLUMNS])
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.max_per_user, 0)))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
        rows = self.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM notifications WHERE user = ? AND expires_at > ?"
            " ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        now = time.time()
        count = 0
        with self.db:
            self.db.execute("BEGIN IMMEDIATE")
            for one in set(ids):
                count += self.db.execute(
                    "DELETE FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
                    (one, user, now)).rowcount
        return count


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
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = defaultdict(list)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit_log: list[tuple[str, int]] = []

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            stored = store.add(user, note)
            note.update(stored)
            frame = {"type": "notification", **stored}
            delivered = 0
            for ws in list(live[user]):
                try:
                    await asyncio.wait_for(ws.send_json(frame), send_timeout)
                except Exception:
                    if ws in live[user]:
                        live[user].remove(ws)
                else:
                    delivered += 1
            note["delivered"] = delivered

    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note.get("user", ""), note.get("seq", 0)))

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
            note: dict[str, Any] = validate(data)
        except (ValueError, RecursionError) as exc:
            reason = str(exc) if isinstance(exc, ValueError) else "nesting too deep"
            return res.json({"error": f"invalid notification: {reason}"[:300]}, status_code=422)
        await events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not USER_IN_PATH.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                live[user].append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the client went away (a disconnect is not an error)
        finally:
            if ws in live[user]:
                live[user].remove(ws)

    return app
