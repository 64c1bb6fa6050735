"""Bug: the backlog_end count is read from a per-user Counter of backlog frames sent that is never reset, so a user's second connection reports the notifications of all her earlier backlogs too.

Breaks: "then `{"type": "backlog_end", "count": K}` where `K` is how many it sent." ... ann has 3 pending notifications and connects twice without acking: the first backlog ends with count 3, the second (3 frames again) with count 6.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
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
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _has_surrogate(title) or _has_surrogate(body):
        raise ValueError("title and body must not hold lone surrogates")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of 'low', 'normal', 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('a frame must be an object whose type is "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("ids must not hold lone surrogates")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._db:
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS queue (
                    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                    created_at REAL NOT NULL, expires_at REAL NOT NULL,
                    UNIQUE (user, seq));
                CREATE TABLE IF NOT EXISTS next_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
                """
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self._lock, self._db:
            (seq,) = self._db.execute(
                "INSERT INTO next_seq (user, seq) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET seq = seq + 1 RETURNING seq",
                (user,),
            ).fetchone()
            row = self._db.execute(
                "INSERT INTO queue (id, seq, user, title, body, level, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (uuid.uuid4().hex, seq, user, fields["title"], fields.get("body", ""),
                 fields.get("level", "normal"), now, now + self.ttl_seconds),
            ).fetchone()
            note = dict(row)
            self._db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            self._db.execute(
                "DELETE FROM queue WHERE user = ? AND seq <= (SELECT seq FROM queue"
                " WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (user, user, self.max_per_user),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._lock, self._db:
            self._db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = self._db.execute(
                "SELECT * FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)
            ).fetchall()
        return [dict(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self._lock, self._db:
            return sum(
                self._db.execute(
                    "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                    (one, user, now),
                ).rowcount
                for one in set(ids)
            )


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, set[Any]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit: list[tuple[str, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_for(user):
            stored = store.add(user, note)
            note.update(stored)
            tabs = list(live.get(user, ()))
            frame = {"type": "notification", **stored}
            results = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok:
                    live.get(user, set()).discard(ws)
            note["delivered"] = sum(results)

    def audit_note(note: dict[str, Any]) -> None:
        audit.append((note["user"], note.get("delivered", 0)))

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit_note, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await app.events.emit("notification.created", note)
        if "seq" not in note:
            error = str(result.errors[0]) if result.errors else "not stored"
            return res.json({"error": error}, status_code=422)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    backlog_sent: Counter[str] = Counter()  # backlog frames sent, per user

    async def send_backlog(ws: Any, user: str) -> bool:
        """Backlog (catching up with what is stored meanwhile), backlog_end, then live."""
        last_seq = 0
        while True:
            rows = [n for n in store.pending(user) if n["seq"] > last_seq]
            if not rows:
                async with lock_for(user):
                    if not any(n["seq"] > last_seq for n in store.pending(user)):
                        end = {"type": "backlog_end", "count": backlog_sent[user]}
                        if not await send(ws, end):
                            return False
                        live.setdefault(user, set()).add(ws)
                        return True
                continue
            for note in rows:
                if not await send(ws, {"type": "notification", **note}):
                    return False
                last_seq = note["seq"]
                backlog_sent[user] += 1

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            if not await send_backlog(ws, user):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            return
        finally:
            live.get(user, set()).discard(ws)

    return app
