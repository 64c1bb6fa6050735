"""Exercise 4: notification_queueing.

Notifications with an offline queue, delivered over WebSockets. This version
validates in the HIGH listener only (the route answers 422 from the emit's
error), keeps the live tabs in a small ``Hub`` object per app and lets
``sqlite3``'s connection context manager commit every write.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
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

FIELDS = ("user", "title", "body", "level")


class Invalid(ValueError):
    """A notification the HIGH listener refused."""


def _lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise Invalid("expected a JSON object")
    user = data.get("user")
    if type(user) is not str or not NAME.fullmatch(user):
        raise Invalid("user: 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'")
    title = data.get("title")
    if type(title) is not str:
        raise Invalid("title: must be a string")
    if len(title) == 0 or len(title) > MAX_TITLE:
        raise Invalid(f"title: 1-{MAX_TITLE} characters")
    if all(ch.isspace() for ch in title):
        raise Invalid("title: blank")
    if _lone_surrogate(title):
        raise Invalid("title: lone surrogate")
    out = {"user": user, "title": title, "body": "", "level": "normal"}
    if "body" in data:
        body = data["body"]
        if type(body) is not str or len(body) > MAX_BODY:
            raise Invalid(f"body: a string of at most {MAX_BODY} characters")
        if _lone_surrogate(body):
            raise Invalid("body: lone surrogate")
        out["body"] = body
    if "level" in data:
        level = data["level"]
        if type(level) is not str or level not in LEVELS:
            raise Invalid("level: low, normal or high")
        out["level"] = level
    return out


def _frame_of(message: Any) -> Any:
    if message.get("bytes") is not None:
        raise ValueError("binary frame")
    text = message.get("text")
    if type(text) is not str:
        raise ValueError("no text")
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"bad JSON: {exc.args[0] if exc.args else exc}") from None


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        frame = _frame_of(message)
        if type(frame) is not dict:
            raise ValueError("a frame must be a JSON object")
        if frame.get("type") != "ack":
            raise ValueError('type must be "ack"')
        ids = frame.get("ids")
        if type(ids) is not list:
            raise ValueError("ids must be a list")
        for i in ids:
            if type(i) is not str or _lone_surrogate(i):
                raise ValueError("ids must hold strings")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # whatever else the frame provoked, it is a bad frame
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self.conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        self.conn.row_factory = sqlite3.Row
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT NOT NULL, "
                "seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
                "level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            seq = self.conn.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET seq = seq + 1 RETURNING seq",
                (user,),
            ).fetchone()[0]
            note = {
                "id": str(uuid.uuid4()),
                "seq": seq,
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now,
                "expires_at": now + self.ttl,
            }
            self.conn.execute(
                "INSERT INTO queue VALUES (:id, :user, :seq, :title, :body, :level, "
                ":created_at, :expires_at)",
                note,
            )
            self.conn.execute(
                "DELETE FROM queue WHERE user = ? AND seq <= ("
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (user, user, self.cap),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = self.conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM queue "
                "WHERE user = ? AND expires_at > ? ORDER BY seq ASC",
                (user, now),
            ).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        now = time.time()
        count = 0
        with self.conn:
            self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            for one in set(ids):
                count += self.conn.execute(
                    "DELETE FROM queue WHERE user = ? AND id = ?", (user, one)
                ).rowcount
        return count


class Hub:
    """One app's live tabs, per user, and the per-user locks that order them."""

    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = defaultdict(list)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def send(self, ws: WebSocket, data: dict[str, Any]) -> bool:
        try:
            async with asyncio.timeout(self.send_timeout):
                await ws.send_text(json.dumps(data))
            return True
        except Exception:
            return False

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        targets = list(self.tabs.get(user, ()))
        oks = await asyncio.gather(*[self.send(ws, frame) for ws in targets])
        for ws, ok in zip(targets, oks):
            if not ok:
                self.leave(user, ws)
        return sum(oks)

    def leave(self, user: str, ws: WebSocket) -> None:
        tabs = self.tabs.get(user)
        if tabs and ws in tabs:
            tabs.remove(ws)


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
    hub = Hub(send_timeout)
    counts = {"created": 0}

    @events.on("notification.created", priority=EventPriority.HIGH)
    def check(note: dict[str, Any]) -> None:
        note.pop("_invalid", None)
        try:
            note.update(validate(note))
        except ValueError:
            note["_invalid"] = True
            raise

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def keep_and_push(note: dict[str, Any]) -> None:
        if note.get("_invalid"):
            return
        async with hub.locks[note["user"]]:
            saved = store.add(note["user"], note)
            note.update(saved)
            note["delivered"] = await hub.push(note["user"], {"type": "notification", **saved})

    @events.on("notification.created", priority=EventPriority.LOW)
    def count(note: dict[str, Any]) -> None:
        if "seq" in note:
            counts["created"] += 1

    @app.post("/notifications")
    async def post(req: Any, res: Any) -> Any:
        try:
            body = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "invalid JSON"}, status_code=422)
        if type(body) is not dict:
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note = {k: body[k] for k in FIELDS if k in body}
        result = await events.emit("notification.created", note)
        if "seq" in note and not note.get("_invalid"):
            return res.json(
                {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                status_code=201,
            )
        refused = [e for e in result.errors if isinstance(e, Invalid)]
        if refused:
            return res.json({"error": str(refused[0])}, status_code=422)
        return res.json({"error": "not stored"}, status_code=500)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if type(user) is not str or not NAME.fullmatch(user):
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "user must be 1-32 of [A-Za-z0-9_.-]"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with hub.locks[user]:
                sent = 0
                for note in store.pending(user):
                    if not await hub.send(ws, {"type": "notification", **note}):
                        return
                    sent += 1
                if not await hub.send(ws, {"type": "backlog_end", "count": sent}):
                    return
                hub.tabs[user].append(ws)
            while True:
                message = await ws.receive()
                if message["type"] != "websocket.receive":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await hub.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await hub.send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the client left
        finally:
            hub.leave(user, ws)

    return app
