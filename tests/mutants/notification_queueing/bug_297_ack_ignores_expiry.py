"""Exercise 4: notification_queueing. Closures over one Store; the ack is one DELETE per distinct id.

BUG (planted): the page says "Unknown ids, ids of another user's notifications, ids
acknowledged before and ids that expired (even if not purged yet) count 0 and change
nothing". The tidy-up removed the `expires_at > ?` condition from Store.ack's DELETE as a
duplicate ("pending() and add() already purge expired rows"); but a row that expired
after its tab received it stays in the table until the next purge, so acking it counts
1 (`{"type": "acked", "count": 1}`) instead of 0.
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
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

FRAME_FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
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
    try:
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str):
            raise ValueError("a frame must be JSON text, not binary")
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("the frame is nested too deep to parse") from None
        except ValueError:
            raise ValueError("the frame is not JSON") from None
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


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS notifications ("
                " id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,"
                " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {"id": uuid.uuid4().hex, "seq": 0, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds}
        with self.conn:
            self.conn.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1)"
                " ON CONFLICT(user) DO UPDATE SET seq = seq + 1", (user,))
            note["seq"] = self.conn.execute(
                "SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()[0]
            self.conn.execute(
                "INSERT INTO notifications (id, seq, user, title, body, level, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[k] for k in FRAME_FIELDS))
            self.conn.execute(
                "DELETE FROM notifications WHERE user = ? AND expires_at <= ?", (user, now))
            self.conn.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self.conn.execute(
                "DELETE FROM notifications WHERE user = ? AND expires_at <= ?", (user, now))
        rows = self.conn.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at"
            " FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now)).fetchall()
        return [dict(zip(FRAME_FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        count = 0
        with self.conn:  # expired rows are purged by add() and pending()
            for note_id in set(ids):
                cur = self.conn.execute(
                    "DELETE FROM notifications WHERE user = ? AND id = ?", (user, note_id))
                count += cur.rowcount
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
    audit = {"count": 0}

    async def send(ws: WebSocket, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    async def push(user: str, frame: dict[str, Any]) -> int:
        delivered = 0
        for ws in list(live[user]):
            try:
                await asyncio.wait_for(send(ws, frame), send_timeout)
            except Exception:
                if ws in live[user]:
                    live[user].remove(ws)
            else:
                delivered += 1
        return delivered

    def enrich(payload: dict[str, Any]) -> None:
        try:
            payload.update(validate(payload))
        except ValueError:
            payload["rejected"] = True
            raise

    async def store_and_push(payload: dict[str, Any]) -> None:
        if payload.get("rejected"):
            return
        user = payload["user"]
        async with locks[user]:
            note = store.add(user, payload)
            payload.update(note)
            payload["delivered"] = await push(user, {"type": "notification", **note})

    def count(payload: dict[str, Any]) -> None:
        if not payload.get("rejected"):
            audit["count"] += 1

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await send(ws, {"type": "error", "code": "bad_request",
                            "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await send(ws, {"type": "notification", **note})
                await send(ws, {"type": "backlog_end", "count": len(backlog)})
                live[user].append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                acked = store.ack(user, ids)
                await send(ws, {"type": "acked", "count": acked})
        except (WebSocketDisconnect, OSError):
            pass
        finally:
            if ws in live[user]:
                live[user].remove(ws)

    return app
