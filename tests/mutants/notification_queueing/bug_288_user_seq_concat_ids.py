"""Exercise 4: notification_queueing. A locked single-connection Store keyed by (user, seq), ids built from that key.

BUG (planted): "ids are unique" (and clients "de-duplicate by `id`"). This version
keys the table on ``(user, seq)`` and makes the id the text of that key,
``f"{user}{seq}"``, with no separator, reasoning that a seq is unique per user so
user plus seq is unique: but ``ann1``'s seq 1 and ``ann``'s seq 11 both get the id
``"ann11"`` (and ``a``'s 12 / ``a1``'s 2 both ``"a12"``).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
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
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text")
        if not isinstance(text, str):
            raise ValueError("a frame must be JSON text, not binary")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("the frame is not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("the frame must be a JSON object")
        kind = data.get("type")
        if not isinstance(kind, str) or kind != "ack":
            raise ValueError('the frame\'s type must be "ack"')
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: ValueError and nothing else
        raise ValueError(f"bad frame ({type(exc).__name__})") from None


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notifications ("
                " id TEXT NOT NULL, seq INTEGER NOT NULL, user TEXT NOT NULL,"
                " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL,"
                " PRIMARY KEY (user, seq))")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS sequences (user TEXT PRIMARY KEY, last INTEGER NOT NULL)")

    def _purge(self, now: float) -> None:
        self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        now = time.time()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO sequences (user, last) VALUES (?, 1)"
                " ON CONFLICT(user) DO UPDATE SET last = last + 1", (user,))
            (seq,) = self._db.execute(
                "SELECT last FROM sequences WHERE user = ?", (user,)).fetchone()
            row = {
                "id": f"{user}{seq}", "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds,
            }
            self._db.execute(
                f"INSERT INTO notifications ({', '.join(COLUMNS)}) VALUES"
                f" ({', '.join('?' for _ in COLUMNS)})", [row[c] for c in COLUMNS])
            self._purge(now)
            self._db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN ("
                " SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return row

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self._lock, self._db:
            self._purge(now)
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notifications"
                " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        count = 0
        with self._lock, self._db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                cur = self._db.execute(
                    "DELETE FROM notifications WHERE user = ? AND expires_at > ?"
                    f" AND id IN ({', '.join('?' for _ in chunk)})", (user, now, *chunk))
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
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit: list[tuple[str, int, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, frame: dict[str, Any]) -> int:
        delivered = 0
        for ws in list(live.get(user, [])):
            try:
                await asyncio.wait_for(ws.send_json(frame), send_timeout)
            except Exception:  # noqa: BLE001 - failed or timed out: a dead tab
                tabs = live.get(user, [])
                if ws in tabs:
                    tabs.remove(ws)
            else:
                delivered += 1
        return delivered

    def enrich(note: Any) -> None:
        fields = validate(note)
        note.update(fields)  # the defaults of missing fields

    async def store_and_push(note: Any) -> None:
        try:
            fields = validate(note)
        except ValueError:
            return  # refused by enrich: never stored
        user = fields["user"]
        async with lock_for(user):
            stored = store.add(user, fields)
            note.update(stored)
            note["delivered"] = await push(user, {"type": "notification", **stored})

    def count(note: Any) -> None:
        if isinstance(note, dict) and "id" in note:
            audit.append((note["user"], note["seq"], note.get("delivered", 0)))

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            fields = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        note: dict[str, Any] = dict(fields)
        await events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with lock_for(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                live.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                acked = store.ack(user, ids)
                await ws.send_json({"type": "acked", "count": acked})
        except Exception:  # noqa: BLE001 - the client went away: not an error
            pass
        finally:
            tabs = live.get(user, [])
            if ws in tabs:
                tabs.remove(ws)

    return app
