"""Breaks: "A malformed frame ... gets exactly {"type": "error", "code": "bad_frame", ...} on
that connection only, the app emits `ws.error` ..., and the connection **stays open**."
The app installs an EventBus(raise_errors=True); when any listener on ws.error raises (an
alert added to app.events), the emit raises an ExceptionGroup in the socket's handler: the
tab never gets its bad_frame error and its connection is closed.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
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


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and not _has_surrogate(value)


def _json(text: str) -> Any:
    """json.loads, but every failure is a ValueError."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    title = data.get("title")
    if not _is_text(title):
        raise ValueError("title must be a string of text")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    body = data["body"] if "body" in data else ""
    if not _is_text(body) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted")
    try:
        frame = _json(text)
    except ValueError as exc:
        raise ValueError(f"not valid JSON: {exc}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object with "type": "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not _is_text(item):
            raise ValueError("every id must be a string")
    return list(ids)


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self.conn = sqlite3.connect(path, check_same_thread=False)
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT NOT NULL, "
                "seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
                "level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self.conn.execute("CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq)")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)")

    def _next_seq(self, user: str) -> int:
        row = self.conn.execute("UPDATE counters SET last = last + 1 WHERE user = ? RETURNING last",
                                (user,)).fetchone()
        if row is None:
            self.conn.execute("INSERT INTO counters (user, last) VALUES (?, 1)", (user,))
            return 1
        return int(row[0])

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        created = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (created,))
            note = {"id": str(uuid.uuid4()), "seq": self._next_seq(user), "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": created, "expires_at": created + self.ttl}
            self.conn.execute("INSERT INTO queue (id, seq, user, title, body, level, created_at, "
                              "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              tuple(note[f] for f in FIELDS))
            # the newest `cap` stay; everything at or below the (cap+1)-th newest seq goes
            boundary = self.conn.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (user, self.cap)).fetchone()
            if boundary is not None:
                self.conn.execute("DELETE FROM queue WHERE user = ? AND seq <= ?",
                                  (user, boundary[0]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = self.conn.execute(
                f"SELECT {', '.join(FIELDS)} FROM queue WHERE user = ? AND expires_at > ? "
                "ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; how many distinct ones were this user's pending notifications."""
        wanted = json.dumps(list(ids))
        with self.conn:
            cur = self.conn.execute(
                "DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN "
                "(SELECT value FROM json_each(?) WHERE type = 'text')",
                (user, time.time(), wanted))
        return max(cur.rowcount, 0)


class Hub:
    """The live side: each user's open tabs, one lock per user, and the bus."""

    def __init__(self, events: Any, store: Store, send_timeout: float) -> None:
        self.events = events
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, set[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audit: dict[str, int] = {}

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def _send(self, ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), self.send_timeout)
        except Exception:  # failed, timed out, or gone: this tab is dead
            return False
        return True

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        live = list(self.tabs.get(user, ()))
        text = json.dumps(frame)
        oks = await asyncio.gather(*(self._send(ws, text) for ws in live))
        for ws, ok in zip(live, oks):
            if not ok:
                self.tabs.get(user, set()).discard(ws)
        return sum(oks)

    # listeners of notification.created
    def enrich(self, notice: dict[str, Any]) -> None:
        notice.update(validate(notice))

    async def store_and_push(self, notice: dict[str, Any]) -> None:
        user = notice["user"]
        async with self.lock(user):
            note = self.store.add(user, notice)
            delivered = await self.push(user, {"type": "notification", **note})
        notice["id"], notice["seq"], notice["delivered"] = note["id"], note["seq"], delivered

    def count(self, notice: dict[str, Any]) -> None:
        self.audit[notice["user"]] = self.audit.get(notice["user"], 0) + 1

    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name: 1-32 characters of A-Z a-z 0-9 _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                notes = self.store.pending(user)
                for note in notes:
                    if not await self._send(ws, json.dumps({"type": "notification", **note})):
                        return
                end = json.dumps({"type": "backlog_end", "count": len(notes)})
                if not await self._send(ws, end):
                    return
                self.tabs.setdefault(user, set()).add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            return  # the tab went away: not an error
        finally:
            self.tabs.get(user, set()).discard(ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with ``POST /notifications`` and the ``/notifications/{user}`` WebSocket."""
    app = NexiosApp()
    # strict: a listener's error is raised, not only logged
    events = day25.install(app, day25.EventBus(raise_errors=True))
    hub = Hub(events, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
              send_timeout)
    events.on("notification.created", hub.enrich, priority=EventPriority.HIGH)
    events.on("notification.created", hub.store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", hub.count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = _json(raw.decode("utf-8"))
        except ValueError as exc:
            return res.json({"error": f"invalid JSON body: {exc}"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        try:
            await events.emit("notification.created", notice)
        except ExceptionGroup:
            pass  # what was stored is in `notice`
        if "id" not in notice:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await hub.serve(ws)

    return app
