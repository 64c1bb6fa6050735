"""Bug: the HIGH "enrich" listener reads the user's next seq from the store before the MEDIUM listener takes the user's lock and stores, so POSTs that arrive while an earlier push is still in flight read the same number and two notifications share a seq.

Breaks: "`seq` increases by one per user and is never reused" and "`N` the user's sequence number (1, 2, 3, ... per user)" ... with one tab of ann open, eight concurrent POSTs for ann answer seqs such as 1, 2, 2, 2, 2, 2, 2, 2 (and the next backlog holds those duplicates), where 1-8 are expected.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
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

KEYS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _no_surrogates(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF for c in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    out: dict[str, str] = {}
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    out["user"] = user
    if "title" not in data:
        raise ValueError("title: required")
    title = data["title"]
    if not isinstance(title, str) or not title or len(title) > MAX_TITLE:
        raise ValueError(f"title: 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title: only whitespace")
    if not _no_surrogates(title):
        raise ValueError("title: lone surrogate")
    out["title"] = title
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body: text of at most {MAX_BODY} characters")
    if not _no_surrogates(body):
        raise ValueError("body: lone surrogate")
    out["body"] = body
    level = data.get("level", "normal")
    if level not in LEVELS or not isinstance(level, str):
        raise ValueError("level: low, normal or high")
    out["level"] = level
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frame")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('frame must be {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    if not all(isinstance(i, str) and _no_surrogates(i) for i in ids):
        raise ValueError("ids must be strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute(f"CREATE TABLE IF NOT EXISTS items ({', '.join(KEYS)})")
            self._db.execute("CREATE TABLE IF NOT EXISTS counters (user PRIMARY KEY, seq)")

    def next_seq(self, user: str) -> int:
        """The seq the user's next notification gets."""
        with self._lock:
            row = self._db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
        return 1 if row is None else row[0] + 1

    def prepare(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """A new notification: its id, its seq and its times."""
        now = time.time()
        return {"id": uuid.uuid4().hex, "seq": self.next_seq(user), "user": user,
                "title": fields["title"], "body": fields["body"], "level": fields["level"],
                "created_at": now, "expires_at": now + self.ttl_seconds}

    def put(self, note: dict[str, Any]) -> dict[str, Any]:
        """Commit a prepared notification, then apply the TTL and the cap."""
        with self._lock, self._db:
            self._db.execute(f"INSERT INTO items VALUES ({', '.join('?' * len(KEYS))})",
                             [note[k] for k in KEYS])
            self._db.execute("INSERT INTO counters VALUES (?, ?) ON CONFLICT (user) DO UPDATE"
                             " SET seq = MAX(seq, excluded.seq)", (note["user"], note["seq"]))
            self._db.execute("DELETE FROM items WHERE expires_at <= ?", (time.time(),))
            self._db.execute("DELETE FROM items WHERE user = ? AND id NOT IN (SELECT id FROM"
                             " items WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                             (note["user"], note["user"], self.max_per_user))
        return {k: note[k] for k in KEYS}

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        return self.put(self.prepare(user, fields))

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._lock, self._db:
            self._db.execute("DELETE FROM items WHERE expires_at <= ?", (now,))
            rows = self._db.execute(f"SELECT {', '.join(KEYS)} FROM items WHERE user = ?"
                                    " AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(KEYS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        n = 0
        with self._lock, self._db:
            for i in set(ids):
                n += self._db.execute("DELETE FROM items WHERE id = ? AND user = ? AND"
                                      " expires_at > ?", (i, user, now)).rowcount
        return n


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
    tabs: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    stats = {"created": 0, "delivered": 0}

    def user_lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push_to(user: str, ws: WebSocket, frame: dict[str, Any]) -> int:
        try:
            await asyncio.wait_for(ws.send_json(frame), timeout=send_timeout)
            return 1
        except Exception:
            if ws in tabs.get(user, []):
                tabs[user].remove(ws)
            return 0

    def enrich(note: dict[str, Any]) -> None:
        """HIGH: defaults, then the id, the seq and the times the notification will carry."""
        note.setdefault("body", "")
        note.setdefault("level", "normal")
        note.update(store.prepare(note["user"], note))

    async def store_and_push(note: dict[str, Any]) -> None:
        """MEDIUM: commit, then push to every open tab of the user."""
        user = note["user"]
        async with user_lock(user):
            frame = {"type": "notification", **store.put(note)}
            sent = await asyncio.gather(*(push_to(user, ws, frame) for ws in list(tabs.get(user, []))))
            note["delivered"] = sum(sent)

    def audit(note: dict[str, Any]) -> None:
        """LOW: count."""
        stats["created"] += 1
        stats["delivered"] += note["delivered"]

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        try:
            raw = (await req.body).decode("utf-8")
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return res.json({"error": "invalid JSON"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def ws_notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request", "message": "bad user name"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with user_lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                tabs.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            if ws in tabs.get(user, []):
                tabs[user].remove(ws)

    return app
