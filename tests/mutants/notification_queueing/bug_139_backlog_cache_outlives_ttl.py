"""Bug: Store.pending caches each user's backlog in memory and only drops the cache when that user gets a new notification or acknowledges one, so a backlog read before a notification expired is served again after it expired.

Breaks: "**TTL:** a notification older than `ttl_seconds` is never delivered and is purged: it is expired once `expires_at <= time.time()`" ... with ttl_seconds=1, ann gets notification X, connects (X in her backlog, not acked) and closes; 1.5 s later she connects again and X is sent again in the backlog although it expired.
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
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _is_text(value: str) -> bool:
    """No lone surrogates: the string can be encoded as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("bad user: 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not _is_text(title):
        raise ValueError("title must be text")
    if len(title) < 1 or len(title) > MAX_TITLE:
        raise ValueError(f"title must have 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be blank")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or not _is_text(body):
        raise ValueError("body must be text")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must have at most {MAX_BODY} characters")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message["text"]
    except (KeyError, TypeError):
        raise ValueError("not a text frame") from None
    if not isinstance(text, str):
        raise ValueError("not a text frame")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("invalid JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack" or not isinstance(frame["type"], str):
        raise ValueError("not an ack frame")
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _is_text(i) for i in ids):
        raise ValueError("ids must be a list of strings")
    return ids


_COLS = "id, seq, user, title, body, level, created_at, expires_at"


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        # every tab of a user reads the same backlog: keep it until the queue changes
        self._backlogs: dict[str, list[dict[str, Any]]] = {}
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notification (id TEXT PRIMARY KEY, seq INTEGER,"
                " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL,"
                " expires_at REAL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS user_seq (user TEXT PRIMARY KEY, seq INTEGER)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        with self._db:
            self._db.execute(
                "INSERT INTO user_seq (user, seq) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET seq = seq + 1", (user,))
            (seq,) = self._db.execute("SELECT seq FROM user_seq WHERE user = ?", (user,)).fetchone()
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                    "created_at": created, "expires_at": created + self.ttl_seconds}
            self._db.execute(
                f"INSERT INTO notification ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (note["id"], seq, user, note["title"], note["body"], note["level"],
                 note["created_at"], note["expires_at"]))
            self._db.execute("DELETE FROM notification WHERE user = ? AND expires_at <= ?",
                             (user, created))
            self._db.execute(
                "DELETE FROM notification WHERE user = ? AND seq NOT IN (SELECT seq FROM"
                " notification WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        self._backlogs.pop(user, None)
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        cached = self._backlogs.get(user)
        if cached is not None:
            return [dict(n) for n in cached]
        now = time.time()
        with self._db:
            self._db.execute("DELETE FROM notification WHERE user = ? AND expires_at <= ?",
                             (user, now))
            rows = self._db.execute(
                f"SELECT {_COLS} FROM notification WHERE user = ? AND expires_at > ?"
                " ORDER BY seq", (user, now)).fetchall()
        notes = [dict(row) for row in rows]
        self._backlogs[user] = notes
        return [dict(n) for n in notes]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(set(ids))
        now = time.time()
        total = 0
        with self._db:
            for i in range(0, len(wanted), 250):
                batch = wanted[i:i + 250]
                total += self._db.execute(
                    "DELETE FROM notification WHERE user = ? AND expires_at > ? AND id IN (%s)"
                    % ", ".join("?" * len(batch)), [user, now, *batch]).rowcount
        if total:
            self._backlogs.pop(user, None)
        return total


class NotificationService:
    """The routes' state: the store, the live tabs of each user, one lock per user."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, set[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.created = 0

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)

    async def _try(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await self.send(ws, frame)
        except Exception:  # noqa: BLE001 - dead tab
            return False
        return True

    # listeners of notification.created
    def fill_defaults(self, note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, note)
            note.update(stored)
            targets = list(self.tabs.get(user, ()))
            frame = {"type": "notification", **stored}
            oks = await asyncio.gather(*(self._try(ws, frame) for ws in targets))
            for ws, ok in zip(targets, oks):
                if not ok:
                    self.tabs.get(user, set()).discard(ws)
            note["delivered"] = sum(oks)

    def audit(self, note: dict[str, Any]) -> None:
        self.created += 1

    # routes
    async def post(self, req: Any, res: Any) -> Any:
        try:
            note = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await self.app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "invalid user name"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for note in backlog:
                    await self.send(ws, {"type": "notification", **note})
                await self.send(ws, {"type": "backlog_end", "count": len(backlog)})
                self.tabs.setdefault(user, set()).add(ws)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await self.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await self.send(ws, {"type": "acked", "count": self.store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - the tab left or broke
            pass
        finally:
            mine = self.tabs.get(user)
            if mine is not None:
                mine.discard(ws)
                if not mine:
                    self.tabs.pop(user, None)


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
    service = NotificationService(
        app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout)
    app.events.on("notification.created", service.fill_defaults, priority=EventPriority.HIGH)
    app.events.on("notification.created", service.store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", service.audit, priority=EventPriority.LOW)
    app.post("/notifications")(service.post)
    app.ws_route("/notifications/{user}")(service.connect)
    return app
