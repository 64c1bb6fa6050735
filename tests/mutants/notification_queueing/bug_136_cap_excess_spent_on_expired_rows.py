"""Bug: the cap counts only the user's unexpired rows but then deletes the oldest rows of all, so while expired rows are still waiting to be purged the "excess" deletes those instead of live ones and the user keeps more than max_per_user.

Breaks: "**Cap and overflow rule:** at most `max_per_user` unacknowledged notifications are kept per user, whether or not the user has a tab open (pushed live but not acknowledged is unacknowledged); when a new one would exceed the cap, the **oldest (lowest seq) is dropped**." ... with ttl_seconds=0.5 and max_per_user=2, "a" is posted and expires, then "b", "c", "d" are posted: each overflow deletes the expired "a" (once) and the backlog holds b, c, d, three notifications instead of c, d.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import asdict, dataclass, fields
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


def _surrogate_free(text: str) -> bool:
    return not any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user, title = data.get("user"), data.get("title")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    if not (isinstance(title, str) and 1 <= len(title) <= MAX_TITLE and title.strip()):
        raise ValueError(f"title: text of 1-{MAX_TITLE} characters, not only whitespace")
    body = data.get("body", "")
    if "body" in data and not (isinstance(body, str) and len(body) <= MAX_BODY):
        raise ValueError(f"body: text of at most {MAX_BODY} characters")
    if not (_surrogate_free(title) and _surrogate_free(body)):
        raise ValueError("title and body: no lone surrogates")
    level = data.get("level", "normal")
    if "level" in data and not (isinstance(level, str) and level in LEVELS):
        raise ValueError("level: exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frame: send JSON text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('only {"type": "ack", "ids": [...]} frames are understood')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _surrogate_free(i) for i in ids):
        raise ValueError("ids: a list of strings")
    return ids


@dataclass(frozen=True)
class Notification:
    id: str
    seq: int
    user: str
    title: str
    body: str
    level: str
    created_at: float
    expires_at: float


COLUMNS = tuple(f.name for f in fields(Notification))


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._guard = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notification (id TEXT PRIMARY KEY, seq INTEGER,"
                " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS user_seq (user TEXT PRIMARY KEY, seq INTEGER)"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._guard, self._db:
            now = time.time()
            last = self._db.execute("SELECT seq FROM user_seq WHERE user = ?", (user,)).fetchone()
            seq = (last[0] if last else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO user_seq (user, seq) VALUES (?, ?)", (user, seq))
            note = Notification(uuid.uuid4().hex, seq, user, fields["title"],
                                fields.get("body", ""), fields.get("level", "normal"),
                                now, now + self.ttl_seconds)
            self._db.execute(
                f"INSERT INTO notification ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                tuple(asdict(note).values()),
            )
            # the cap: how many of the user's notifications are pending now, and how many too many
            (kept,) = self._db.execute(
                "SELECT COUNT(*) FROM notification WHERE user = ? AND expires_at > ?", (user, now)
            ).fetchone()
            excess = kept - self.max_per_user
            if excess > 0:
                self._db.execute(
                    "DELETE FROM notification WHERE id IN"
                    " (SELECT id FROM notification WHERE user = ? ORDER BY seq LIMIT ?)",
                    (user, excess),
                )
        return asdict(note)

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._guard, self._db:
            now = time.time()
            self._db.execute("DELETE FROM notification WHERE user = ? AND expires_at <= ?",
                             (user, now))
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notification WHERE user = ? ORDER BY seq",
                (user,),
            ).fetchall()
        return [asdict(Notification(*row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self._guard, self._db:
            now = time.time()
            count = 0
            for one in set(ids):
                cur = self._db.execute(
                    "DELETE FROM notification WHERE id = ? AND user = ? AND expires_at > ?",
                    (one, user, now),
                )
                count += cur.rowcount
            return count


class NotificationService:
    """The listeners and the WebSocket protocol around one Store."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.live: dict[str, set[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audited = 0
        app.events.on("notification.created", self.enrich, priority=EventPriority.HIGH)
        app.events.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        app.events.on("notification.created", self.audit, priority=EventPriority.LOW)

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def deliver(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
        except Exception:
            return False
        return True

    def enrich(self, note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, note)
            note.update(stored)
            tabs = list(self.live.get(user, ()))
            frame = {"type": "notification", **stored}
            ok = await asyncio.gather(*(self.deliver(ws, frame) for ws in tabs))
            for ws, reached in zip(tabs, ok):
                if not reached:
                    self.live[user].discard(ws)
            note["delivered"] = sum(ok)

    def audit(self, note: dict[str, Any]) -> None:
        self.audited += 1

    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
            note: dict[str, Any] = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "bad JSON"}, status_code=422)
        await self.app.events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def join(self, ws: WebSocket, user: str) -> bool:
        last, count = 0, 0
        while True:
            rows = [n for n in self.store.pending(user) if n["seq"] > last]
            if not rows:
                async with self.lock(user):
                    rows = [n for n in self.store.pending(user) if n["seq"] > last]
                    if not rows:
                        if not await self.deliver(ws, {"type": "backlog_end", "count": count}):
                            return False
                        self.live.setdefault(user, set()).add(ws)
                        return True
            for row in rows:
                if not await self.deliver(ws, {"type": "notification", **row}):
                    return False
                last, count = row["seq"], count + 1

    async def connect(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user: 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            if not await self.join(ws, user):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            return
        finally:
            self.live.get(user, set()).discard(ws)


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
        app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout
    )

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        return await service.create(req, res)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await service.connect(ws)

    return app
