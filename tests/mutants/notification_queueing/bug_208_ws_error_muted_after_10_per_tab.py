"""Bug: to keep the log from flooding, a connection emits `ws.error` for its first 10 bad frames only; later bad frames still get the error frame but no event.

Breaks: "gets exactly `{"type": "error", "code": "bad_frame", "message": "<what was wrong>"}` on that connection only, the app emits `ws.error` with exactly `{"user": U, "error": "<what was wrong>"}`, and the connection **stays open**." ... a tab that sends 12 frames that are not JSON gets 12 error frames, but `ws.error` is emitted only 10 times.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
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

_SURROGATE = re.compile("[\ud800-\udfff]")
_FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-] required")
    title = data.get("title")
    if not isinstance(title, str) or not 0 < len(title) <= MAX_TITLE:
        raise ValueError(f"title: a string of 1-{MAX_TITLE} characters required")
    if title.isspace():
        raise ValueError("title: only whitespace")
    if _SURROGATE.search(title):
        raise ValueError("title: lone surrogate")
    accepted = {"user": user, "title": title, "body": "", "level": "normal"}
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str) or len(body) > MAX_BODY:
            raise ValueError(f"body: a string of at most {MAX_BODY} characters")
        if _SURROGATE.search(body):
            raise ValueError("body: lone surrogate")
        accepted["body"] = body
    if "level" in data:
        level = data["level"]
        if type(level) is not str or level not in LEVELS:
            raise ValueError("level: one of low, normal, high")
        accepted["level"] = level
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message["text"]
    except (KeyError, TypeError):
        text = None
    if type(text) is not str:
        raise ValueError("binary frame: send JSON text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if type(frame) is not dict:
        raise ValueError("not a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('type must be "ack"')
    ids = frame.get("ids")
    if type(ids) is not list or not all(type(i) is str for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_SURROGATE.search(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self._guard = threading.RLock()
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                     timeout=30)
        self._conn.row_factory = sqlite3.Row
        self._conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS queue (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE UNIQUE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq);
            """
        )

    def _transaction(self, fn: Any, *args: Any) -> Any:
        with self._guard:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                out = fn(*args)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return out

    def _add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        c = self._conn
        c.execute("INSERT OR IGNORE INTO users (name, last_seq) VALUES (?, 0)", (user,))
        seq = c.execute("UPDATE users SET last_seq = last_seq + 1 WHERE name = ? RETURNING last_seq",
                        (user,)).fetchone()["last_seq"]
        now = time.time()
        note = {"id": secrets.token_urlsafe(12), "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl}
        c.execute("INSERT INTO queue VALUES (:id, :seq, :user, :title, :body, :level,"
                  " :created_at, :expires_at)", note)
        c.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
        c.execute("DELETE FROM queue WHERE user = ? AND seq <= COALESCE((SELECT seq FROM queue"
                  " WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?), -1)",
                  (user, user, self.cap))
        return note

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        note: dict[str, Any] = self._transaction(self._add, user, fields)
        return note

    def _pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._conn.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
        rows = self._conn.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM queue"
            " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [{k: r[k] for k in _FIELDS} for r in rows]

    def pending(self, user: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self._transaction(self._pending, user)
        return rows

    def _ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        before = self._conn.total_changes
        self._conn.executemany(
            "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
            ((i, user, now) for i in ids))
        return self._conn.total_changes - before

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = list(dict.fromkeys(ids))
        if not distinct:
            return 0
        count: int = self._transaction(self._ack, user, distinct)
        return count


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    user: str
    live: bool = False
    errors_reported: int = 0

    async def send(self, payload: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(payload))


@dataclass
class Hub:
    store: Store
    bus: Any
    send_timeout: float
    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    accepted: dict[int, dict[str, Any]] = field(default_factory=dict)
    created: int = 0

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    # -- listeners of notification.created ---------------------------------
    def validate_high(self, note: dict[str, Any]) -> None:
        clean = validate(note)  # raises ValueError: the route answers 422
        note.clear()
        note.update(clean)
        self.accepted[id(note)] = note

    async def store_and_push(self, note: dict[str, Any]) -> None:
        if self.accepted.get(id(note)) is not note:
            return
        user = note["user"]
        async with self.lock(user):
            row = self.store.add(user, note)
            note.update(row)
            frame = {"type": "notification", **row}
            targets = [t for t in self.tabs.get(user, []) if t.live]
            outcomes = await asyncio.gather(*(self._push(t, frame) for t in targets))
            note["delivered"] = sum(outcomes)

    async def _push(self, tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.send(frame), self.send_timeout)
            return True
        except Exception:
            self.leave(tab)
            return False

    def audit(self, note: dict[str, Any]) -> None:
        if "seq" in note:
            self.created += 1

    # -- tabs -----------------------------------------------------------------
    def leave(self, tab: Tab) -> None:
        tab.live = False
        mine = self.tabs.get(tab.user, [])
        if tab in mine:
            mine.remove(tab)

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "user must be 1-32 of [A-Za-z0-9_.-]"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws, user)
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for row in backlog:
                    await tab.send({"type": "notification", **row})
                await tab.send({"type": "backlog_end", "count": len(backlog)})
                tab.live = True
                self.tabs.setdefault(user, []).append(tab)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await tab.send({"type": "error", "code": "bad_frame", "message": str(exc)})
                    if tab.errors_reported < 10:  # no log flood from one misbehaving client
                        tab.errors_reported += 1
                        await self.bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await tab.send({"type": "acked", "count": self.store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            return
        finally:
            self.leave(tab)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``."""
    app = NexiosApp()
    bus = day25.install(app)
    hub = Hub(Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), bus,
              send_timeout)
    bus.on("notification.created", hub.validate_high, priority=EventPriority.HIGH)
    bus.on("notification.created", hub.store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", hub.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body must be UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note = dict(data)
        try:
            result = await bus.emit("notification.created", note)
        finally:
            accepted = hub.accepted.pop(id(note), None) is note
        if not accepted:
            why = next((e for e in result.errors if isinstance(e, ValueError)), None)
            return res.json({"error": str(why) if why else "refused"}, status_code=422)
        if "seq" not in note:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await hub.serve(ws)

    return app
