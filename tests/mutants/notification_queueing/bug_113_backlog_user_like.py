"""Bug: Store.pending selects the user's rows with SQL ``LIKE`` instead of ``=``, so ``_`` is a wildcard and case is ignored, and a tab gets other users' notifications in its backlog.

Breaks: "On connect the server sends every stored, unacknowledged, unexpired notification of that user, in `seq` order" and "a live notification reaches every tab of its user, every field, and nobody else" ... after a POST for "ann", a tab opened as "a_n" (or "ANN") receives ann's notification in its backlog, with "user": "ann", and backlog_end counts it.
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

FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _is_text(value: str) -> bool:
    """False when ``value`` holds a lone surrogate (not encodable as UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title: a string of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title: not only whitespace")
    body = data.get("body", "")
    if "body" in data and not isinstance(data["body"], str):
        raise ValueError("body: a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body: at most {MAX_BODY} characters")
    if not (_is_text(title) and _is_text(body)):
        raise ValueError("title and body must not hold lone surrogates")
    level = data.get("level", "normal")
    if "level" in data and not (isinstance(data["level"], str) and data["level"] in LEVELS):
        raise ValueError("level: exactly low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("not JSON: nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('a frame must be {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not isinstance(item, str) or not _is_text(item):
            raise ValueError("ids must be strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._mutex = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False)
        with self._conn:
            self._conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS queue (
                    id TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL,
                    user TEXT NOT NULL,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    level TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL
                );
                CREATE TABLE IF NOT EXISTS last_seq (
                    user TEXT PRIMARY KEY,
                    seq INTEGER NOT NULL
                );
                """
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._mutex, self._conn:
            now = time.time()
            row = self._conn.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            seq = 1 if row is None else row[0] + 1
            self._conn.execute(
                "INSERT INTO last_seq (user, seq) VALUES (?, ?) "
                "ON CONFLICT (user) DO UPDATE SET seq = excluded.seq", (user, seq))
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self._conn.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                               tuple(note[f] for f in FIELDS))
            self._conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            self._conn.execute(
                "DELETE FROM queue WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._mutex, self._conn:
            now = time.time()
            self._conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = self._conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM queue "
                "WHERE user LIKE ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self._mutex, self._conn:
            now = time.time()
            acked = 0
            for note_id in dict.fromkeys(ids):
                acked += self._conn.execute(
                    "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now)).rowcount
        return acked


class NotificationService:
    """The app's state: the store, the live tabs per user and a lock per user."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.events = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audited = 0
        self.events.on("notification.created", self.enrich, priority=EventPriority.HIGH)
        self.events.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self.audit, priority=EventPriority.LOW)
        app.post("/notifications")(self.create)
        app.ws_route("/notifications/{user}")(self.connect)

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    # -- listeners ------------------------------------------------------------
    def enrich(self, note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, {"title": note["title"], "body": note["body"],
                                           "level": note["level"]})
            note.update(stored)
            frame = {"type": "notification", **stored}
            tabs = list(self.tabs.get(user, []))
            reached = await asyncio.gather(*(self.send(user, ws, frame) for ws in tabs))
            note["delivered"] = sum(reached)

    def audit(self, note: dict[str, Any]) -> None:
        self.audited += 1

    async def send(self, user: str, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
        except Exception:
            if ws in self.tabs.get(user, []):
                self.tabs[user].remove(ws)
            return False
        return True

    # -- routes ---------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body must be JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await self.events.emit("notification.created", note)
        if not result.ok:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note["delivered"]}, status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user: 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                self.tabs.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            return
        finally:
            if ws in self.tabs.get(user, []):
                self.tabs[user].remove(ws)


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    NotificationService(app, store, send_timeout)
    return app
