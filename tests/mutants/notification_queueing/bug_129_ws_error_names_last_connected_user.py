"""Bug: the hub keeps the user of the connection it served last in an attribute, and reports a bad frame's ws.error with that user, not with the user of the tab that sent the frame.

Breaks: "A malformed frame (binary; not JSON, too deep for instance; not an object whose `type` is exactly `"ack"`; `ids` not a list of strings; an id holding a lone surrogate may be refused this way too, or simply count 0 as no id of yours) gets exactly `{"type": "error", "code": "bad_frame", "message": "<what was wrong>"}` on that connection only, the app emits `ws.error` with exactly `{"user": U, "error": "<what was wrong>"}`, and the connection **stays open**." ... ann connects, then bob connects, then ann sends "not JSON": ann gets the right error frame, but ws.error carries {"user": "bob", ...}.
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

COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _is_text(value: str) -> bool:
    """False if ``value`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
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
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is missing")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if title.strip() == "":
        raise ValueError("title must not be only whitespace")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if not _is_text(title) or not _is_text(body):
        raise ValueError("title and body must not hold lone surrogates")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for one in ids:
        if not isinstance(one, str) or not _is_text(one):
            raise ValueError("every id must be a string")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._mutex = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False)
        with self._conn:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS notifications ("
                " id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,"
                " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS sequences (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._mutex, self._conn:
            now = time.time()
            self._conn.execute(
                "INSERT INTO sequences (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1",
                (user,),
            )
            (seq,) = self._conn.execute(
                "SELECT last FROM sequences WHERE user = ?", (user,)
            ).fetchone()
            row = {
                "id": uuid.uuid4().hex,
                "seq": seq,
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now,
                "expires_at": now + self.ttl_seconds,
            }
            self._conn.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(row[c] for c in COLUMNS),
            )
            self._conn.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            self._conn.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
        return row

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._mutex, self._conn:
            now = time.time()
            self._conn.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = self._conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        acked = 0
        with self._mutex, self._conn:
            now = time.time()
            for note_id in dict.fromkeys(ids):
                acked += self._conn.execute(
                    "DELETE FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                ).rowcount
        return acked


class Hub:
    """The live side: open tabs per user, pushes, and the WebSocket protocol."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, set[WebSocket]] = defaultdict(set)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.user: str | None = None  # the user of the connection being served

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
        except Exception:
            return False
        return True

    async def push(self, note: dict[str, Any]) -> None:
        """MEDIUM: store, then push to every open tab of the user."""
        user = note["user"]
        async with self.locks[user]:
            stored = self.store.add(user, note)
            note.update(stored)
            frame = {"type": "notification", **stored}
            targets = list(self.tabs[user])
            results = await asyncio.gather(*(self.send(ws, frame) for ws in targets))
            for ws, ok in zip(targets, results):
                if not ok:
                    self.tabs[user].discard(ws)
            note["delivered"] = sum(results)

    async def catch_up(self, ws: WebSocket, user: str) -> bool:
        """Send the backlog, then backlog_end, then join the live tabs."""
        last_seq, sent = 0, 0
        while True:
            rows = [n for n in self.store.pending(user) if n["seq"] > last_seq]
            if not rows:
                async with self.locks[user]:
                    rows = [n for n in self.store.pending(user) if n["seq"] > last_seq]
                    if not rows:
                        if not await self.send(ws, {"type": "backlog_end", "count": sent}):
                            return False
                        self.tabs[user].add(ws)
                        return True
            for note in rows:
                if not await self.send(ws, {"type": "notification", **note}):
                    return False
                last_seq, sent = note["seq"], sent + 1

    async def bad_frame(self, ws: WebSocket, error: str) -> None:
        await ws.send_json({"type": "error", "code": "bad_frame", "message": error})
        await self.app.events.emit("ws.error", {"user": self.user, "error": error})

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        self.user = user = ws.path_params.get("user", "")
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user name must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            if not await self.catch_up(ws, user):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await self.bad_frame(ws, str(exc))
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            return
        finally:
            self.tabs[user].discard(ws)


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
    hub = Hub(app, store, send_timeout)
    created: list[str] = []

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    def audit(note: dict[str, Any]) -> None:
        created.append(note["id"])

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", hub.push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
            note: dict[str, Any] = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": f"bad notification: {exc}"}, status_code=422)
        result = await app.events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": str(result.errors[0]) if result.errors else "not stored"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await hub.serve(ws)

    return app
