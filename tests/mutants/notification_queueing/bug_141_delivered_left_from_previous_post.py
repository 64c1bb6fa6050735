"""Bug: the push listener hands its result to the route through attributes of the long-lived Notifier, and returns early without resetting `last_delivered` when the user has no live tab, so the 201 of a post to an offline user repeats the previous post's `delivered`.

Breaks: "`K` the number of the user's live tabs the push reached: ... and a user with no tab open gets 0." ... ann has one tab open and a post to her answers delivered 1; a following post to bob, who has no tab open, answers {"delivered": 1} too (and so does every later post to an offline user until some push reaches a tab again or reaches none).
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

LONE = re.compile(r"[\ud800-\udfff]")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise ValueError("the notification must be a JSON object")
    if "user" not in data or not isinstance(data["user"], str) or not NAME.fullmatch(data["user"]):
        raise ValueError("'user' must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data or not isinstance(data["title"], str):
        raise ValueError("'title' must be a string")
    title = data["title"]
    if len(title) == 0 or len(title) > MAX_TITLE:
        raise ValueError(f"'title' must be 1 to {MAX_TITLE} characters long")
    if title.strip() == "":
        raise ValueError("'title' cannot be only whitespace")
    if LONE.search(title):
        raise ValueError("'title' holds a lone surrogate")
    body = "" if "body" not in data else data["body"]
    if not isinstance(body, str):
        raise ValueError("'body' must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"'body' must be at most {MAX_BODY} characters long")
    if LONE.search(body):
        raise ValueError("'body' holds a lone surrogate")
    level = "normal" if "level" not in data else data["level"]
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("'level' must be exactly 'low', 'normal' or 'high'")
    return {"user": data["user"], "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if text is None:
        raise ValueError("binary frames are not supported")
    try:
        frame = json.loads(text)
    except (TypeError, ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame must be a JSON object")
    kind = frame.get("type")
    if not isinstance(kind, str) or kind != "ack":
        raise ValueError('the frame\'s type must be "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or any(not isinstance(i, str) or LONE.search(i) for i in ids):
        raise ValueError("'ids' must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.sql = sqlite3.connect(path, check_same_thread=False)
        with self.sql:
            self.sql.execute(
                "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
                " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self.sql.execute(
                "CREATE TABLE IF NOT EXISTS sequences (user TEXT PRIMARY KEY, value INTEGER NOT NULL)")

    @staticmethod
    def _row(row: tuple[Any, ...]) -> dict[str, Any]:
        keys = ("id", "user", "seq", "title", "body", "level", "created_at", "expires_at")
        return dict(zip(keys, row))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.sql:
            self.sql.execute(
                "INSERT INTO sequences VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET value = value + 1", (user,))
            (seq,) = self.sql.execute(
                "SELECT value FROM sequences WHERE user = ?", (user,)).fetchone()
            row = (uuid.uuid4().hex, user, seq, fields["title"], fields.get("body", ""),
                   fields.get("level", "normal"), now, now + self.ttl_seconds)
            self.sql.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            self.sql.execute("DELETE FROM items WHERE user = ? AND expires_at <= ?", (user, now))
            self.sql.execute(
                "DELETE FROM items WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM items WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return self._row(row)

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.sql:
            self.sql.execute("DELETE FROM items WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.sql.execute(
                "SELECT * FROM items WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [self._row(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        unique = sorted(set(ids))
        now = time.time()
        count = 0
        with self.sql:
            for i in range(0, len(unique), 900):
                part = unique[i:i + 900]
                count += self.sql.execute(
                    f"DELETE FROM items WHERE user = ? AND expires_at > ?"
                    f" AND id IN ({','.join('?' * len(part))})", (user, now, *part)).rowcount
        return count


class Notifier:
    """Live tabs, per-user locks, and the listeners of ``notification.created``."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audited = 0
        # what the last push did, for the route's 201
        self.last_stored: dict[str, Any] = {}
        self.last_delivered = 0

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)

    async def reached(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await self.send(ws, frame)
            return True
        except Exception:  # noqa: BLE001
            return False

    def check(self, note: dict[str, Any]) -> None:  # HIGH
        note.update(validate(note))

    async def store_and_push(self, note: dict[str, Any]) -> None:  # MEDIUM
        user = note["user"]
        async with self.lock(user):
            self.last_stored = self.store.add(user, note)
            live = list(self.tabs.get(user, []))
            if not live:
                return  # offline: the notification waits in the store
            frame = {"type": "notification", **self.last_stored}
            reached = await asyncio.gather(*(self.reached(ws, frame) for ws in live))
            for ws, ok in zip(live, reached):
                if not ok and ws in self.tabs.get(user, []):
                    self.tabs[user].remove(ws)
            self.last_delivered = sum(reached)

    def audit(self, note: dict[str, Any]) -> None:  # LOW
        self.audited += 1

    async def post(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
            note = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await self.app.events.emit("notification.created", note)
        stored = self.last_stored
        return res.json({"id": stored["id"], "seq": stored["seq"],
                         "delivered": self.last_delivered}, status_code=201)

    async def tab(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "bad user name"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for item in backlog:
                    await self.send(ws, {"type": "notification", **item})
                await self.send(ws, {"type": "backlog_end", "count": len(backlog)})
                self.tabs.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await self.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await self.send(ws, {"type": "acked", "count": self.store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - disconnects are normal
            pass
        finally:
            mine = self.tabs.get(user, [])
            if ws in mine:
                mine.remove(ws)
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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    notifier = Notifier(app, store, send_timeout)
    app.events.on("notification.created", notifier.check, priority=EventPriority.HIGH)
    app.events.on("notification.created", notifier.store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", notifier.audit, priority=EventPriority.LOW)
    app.post("/notifications")(notifier.post)
    app.ws_route("/notifications/{user}")(notifier.tab)
    return app
