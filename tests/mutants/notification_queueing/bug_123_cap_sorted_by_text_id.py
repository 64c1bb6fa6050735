"""Bug: ids are "<user>-<seq>" and the cap drops the rows that come first when sorted by id, a text sort in which "ann-10" comes before "ann-9".

Breaks: "when a new one would exceed the cap, the **oldest (lowest seq) is dropped**" ... with `max_per_user=3`, posting 12 notifications while ann is offline leaves seqs 7, 8, 9 in her backlog (the newest, 10-12, were dropped as they arrived) instead of 10, 11, 12; below seq 10 the cap works.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from typing import Any

import day25
from day25 import EventPriority
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is missing")
    user = data["user"]
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'")
    if "title" not in data:
        raise ValueError("title is missing")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.strip() == "":
        raise ValueError("title must not be blank")
    if _has_lone_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_lone_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame must be a JSON object")
    if frame.get("type") != "ack":
        raise ValueError("the frame's type must be 'ack'")
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not isinstance(item, str):
            raise ValueError("ids must hold strings only")
        if _has_lone_surrogate(item):
            raise ValueError("an id holds a lone surrogate")
    return ids


FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS notification (
                id TEXT PRIMARY KEY,
                seq INTEGER NOT NULL,
                user TEXT NOT NULL,
                title TEXT NOT NULL,
                body TEXT NOT NULL,
                level TEXT NOT NULL,
                created_at REAL NOT NULL,
                expires_at REAL NOT NULL
            );
            CREATE INDEX IF NOT EXISTS notification_user_seq ON notification (user, seq);
            CREATE TABLE IF NOT EXISTS user_seq (
                user TEXT PRIMARY KEY,
                last_seq INTEGER NOT NULL
            );
            """
        )
        self.conn.commit()

    def _next_seq(self, user: str) -> int:
        self.conn.execute(
            "INSERT INTO user_seq (user, last_seq) VALUES (?, 1)"
            " ON CONFLICT (user) DO UPDATE SET last_seq = last_seq + 1",
            (user,),
        )
        row = self.conn.execute("SELECT last_seq FROM user_seq WHERE user = ?", (user,)).fetchone()
        return int(row[0])

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created_at = time.time()
        with self.conn:
            note = {
                "id": "",
                "seq": self._next_seq(user),
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": created_at,
                "expires_at": created_at + self.ttl_seconds,
            }
            note["id"] = f"{user}-{note['seq']}"  # readable, unique, and sorts like seq
            self.conn.execute(
                "INSERT INTO notification VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[f] for f in FIELDS),
            )
            self.conn.execute(
                "DELETE FROM notification WHERE user = ? AND expires_at <= ?", (user, created_at)
            )
            keep = max(self.max_per_user, 0)
            self.conn.execute(
                "DELETE FROM notification WHERE id IN (SELECT id FROM notification"
                " WHERE user = ? ORDER BY id DESC LIMIT -1 OFFSET ?)",
                (user, keep),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM notification WHERE expires_at <= ?", (now,))
            rows = self.conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM notification WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        acked = 0
        with self.conn:
            for note_id in set(ids):
                acked += self.conn.execute(
                    "DELETE FROM notification WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                ).rowcount
        return acked


class Hub:
    """The open tabs of every user, one lock per user, and the event listeners."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audit_count = 0

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    def leave(self, user: str, ws: WebSocket) -> None:
        tabs = self.tabs.get(user)
        if tabs and ws in tabs:
            tabs.remove(ws)

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
            return True
        except Exception:
            return False

    # listeners of notification.created
    def enrich(self, note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, note)
            note.update(stored)
            targets = list(self.tabs.get(user, []))
            frame = {"type": "notification", **stored}
            reached = await asyncio.gather(*(self.send(ws, frame) for ws in targets))
            for ws, ok in zip(targets, reached):
                if not ok:
                    self.leave(user, ws)
            note["delivered"] = sum(reached)

    def audit(self, note: dict[str, Any]) -> None:
        self.audit_count += 1

    async def connect(self, ws: WebSocket, user: str) -> bool:
        """Backlog, backlog_end, then join the live tabs; False if the tab went away."""
        async with self.lock(user):
            backlog = self.store.pending(user)
            for note in backlog:
                if not await self.send(ws, {"type": "notification", **note}):
                    return False
            if not await self.send(ws, {"type": "backlog_end", "count": len(backlog)}):
                return False
            self.tabs.setdefault(user, []).append(ws)
            return True


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
    hub = Hub(app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
              send_timeout)
    app.events.on("notification.created", hub.enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", hub.store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", hub.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "the body must be a JSON object in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "bad user name"}))
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            if not await hub.connect(ws, user):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = hub.store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            hub.leave(user, ws)

    return app
