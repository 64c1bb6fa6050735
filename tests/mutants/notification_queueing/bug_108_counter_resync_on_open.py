"""On opening, the Store "repairs" the seq counters with INSERT OR REPLACE ... MAX(seq) of the rows left, which lowers a counter whose newest rows were acknowledged, so a seq is handed out again after a restart.

(A user whose rows were all acknowledged keeps the right counter: no row, no REPLACE. A user
with an older notification still pending and a newer one acknowledged gets the acked seq again.)

The text: "**Ids and order:** ids are unique; `seq` increases by one per user and is never
reused, not even after acknowledgements or a restart."
And: "Restarting the app with the same `db_path` loses nothing unacknowledged, and `seq`
continues where it was (even when every notification was acknowledged: `MAX(seq)` of the rows
left is not enough if acknowledged rows are deleted)."
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
from nexios.websockets import WebSocket, WebSocketDisconnect

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
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if not title.strip():
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
        raise ValueError("level must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("frames must be JSON text, not binary")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('the frame must be an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notifications ("
                " id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,"
                " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self._db.execute(
                "CREATE INDEX IF NOT EXISTS by_user ON notifications (user, seq)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )
            # crash safety: make every counter agree with the rows that survived a restart
            self._db.execute(
                "INSERT OR REPLACE INTO counters (user, seq)"
                " SELECT user, MAX(seq) FROM notifications GROUP BY user"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self._db.execute(
                "SELECT seq FROM counters WHERE user = ?", (user,)
            ).fetchone()
            note = {
                "id": uuid.uuid4().hex, "seq": seq, "user": user,
                "title": fields["title"], "body": fields["body"], "level": fields["level"],
                "created_at": now, "expires_at": now + self.ttl_seconds,
            }
            self._db.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[c] for c in COLUMNS),
            )
            self._db.execute(
                "DELETE FROM notifications WHERE user = ? AND id NOT IN"
                " (SELECT id FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._lock, self._db:
            self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notifications"
                " WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self._lock, self._db:
            for note_id in set(ids):
                cur = self._db.execute(
                    "DELETE FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                )
                count += cur.rowcount
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
    """A NexiosApp with a day25 EventBus as ``app.events``."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, list[WebSocket]] = defaultdict(list)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit: dict[str, int] = defaultdict(int)

    async def send_one(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            stored = store.add(user, note)  # committed before any push
            live = list(tabs[user])
            text = _frame(stored)
            results = await asyncio.gather(*(send_one(ws, text) for ws in live))
            for ws, ok in zip(live, results):
                if not ok and ws in tabs[user]:
                    tabs[user].remove(ws)
        note.update(stored)
        note["delivered"] = sum(results)

    def count(note: dict[str, Any]) -> None:
        audit[note["level"]] += 1

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", note)
        if not result.ok or "id" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def receive(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": "user must be 1-32 characters of [A-Za-z0-9_.-]",
                }))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await asyncio.wait_for(ws.send_text(_frame(note)), send_timeout)
                await asyncio.wait_for(
                    ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)})),
                    send_timeout,
                )
                tabs[user].append(ws)
        except Exception:
            return  # the client left (or stalled) during its backlog: not an error
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            if ws in tabs[user]:
                tabs[user].remove(ws)

    return app
