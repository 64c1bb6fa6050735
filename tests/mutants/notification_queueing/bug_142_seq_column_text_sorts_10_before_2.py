"""Bug: the queue table declares `seq` as TEXT (the code turns it back into an int when reading), so `ORDER BY seq` sorts as text: from a user's 10th notification on, the backlog comes out 1, 10, 11, 2, ... and the cap drops "10" before "2".

Breaks: "On connect the server sends every stored, unacknowledged, unexpired notification of that user, in `seq` order" and "when a new one would exceed the cap, the **oldest (lowest seq) is dropped**." ... ann gets 10 notifications while offline and connects: her backlog has seq 1, 10, 2, 3, ..., 9; with max_per_user=10, the 11th drops seq 1 but the 12th drops seq 10 (as text, "10" sorts below "2") instead of seq 2.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
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


def _clean(text: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF for c in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    missing = object()
    user = data.get("user", missing)
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user is not 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title", missing)
    if title is missing:
        raise ValueError("title is missing")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE or not title.strip():
        raise ValueError(f"title is not 1-{MAX_TITLE} characters of text")
    body = data.get("body", missing)
    if body is missing:
        body = ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body is not text of at most {MAX_BODY} characters")
    if not _clean(title) or not _clean(body):
        raise ValueError("title or body holds a lone surrogate")
    level = data.get("level", missing)
    if level is missing:
        level = "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level is not 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or "text" not in message or message["text"] is None:
        raise ValueError("a binary frame")
    try:
        frame = json.loads(message["text"])
    except (TypeError, ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("not a JSON object")
    if not (isinstance(frame.get("type"), str) and frame["type"] == "ack"):
        raise ValueError("type is not 'ack'")
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids is not a list")
    if not all(isinstance(i, str) and _clean(i) for i in ids):
        raise ValueError("ids holds something that is not a string")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS queue (
        id TEXT PRIMARY KEY,
        user TEXT NOT NULL,
        seq TEXT NOT NULL,
        title TEXT NOT NULL,
        body TEXT NOT NULL,
        level TEXT NOT NULL,
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        UNIQUE (user, seq)
    );
    CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(self.SCHEMA)
        self.db.commit()

    @staticmethod
    def _note(row: sqlite3.Row) -> dict[str, Any]:
        return {"id": row["id"], "seq": int(row["seq"]), "user": row["user"],
                "title": row["title"], "body": row["body"], "level": row["level"],
                "created_at": row["created_at"], "expires_at": row["expires_at"]}

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO counters VALUES (?, 1) ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,))
            seq = self.db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()[0]
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.db.execute(
                "INSERT INTO queue (id, user, seq, title, body, level, created_at, expires_at)"
                " VALUES (:id, :user, :seq, :title, :body, :level, :created_at, :expires_at)",
                note)
            self.db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM queue WHERE user = ? AND id NOT IN"
                " (SELECT id FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.db.execute(
                "SELECT * FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [self._note(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        todo = list(dict.fromkeys(ids))
        now = time.time()
        acked = 0
        with self.db:
            for start in range(0, len(todo), 500):
                part = todo[start:start + 500]
                acked += self.db.execute(
                    "DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN (%s)"
                    % ",".join(["?"] * len(part)), [user, now, *part]).rowcount
        return acked


@dataclass
class Live:
    """The app's in-memory state: open tabs and locks, per user."""

    send_timeout: float
    tabs: dict[str, list[WebSocket]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    created: int = 0

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)


async def _push(live: Live, ws: WebSocket, frame: dict[str, Any]) -> bool:
    try:
        await live.send(ws, frame)
    except Exception:  # noqa: BLE001 - failed or stalled
        return False
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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live = Live(send_timeout)

    @app.events.on("notification.created", priority=EventPriority.HIGH)
    def defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    @app.events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_then_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with live.lock(user):
            stored = store.add(user, note)
            note.update(stored)
            tabs = list(live.tabs.get(user, []))
            frame = {"type": "notification", **stored}
            oks = await asyncio.gather(*(_push(live, ws, frame) for ws in tabs))
            dead = [ws for ws, ok in zip(tabs, oks) if not ok]
            live.tabs[user] = [ws for ws in live.tabs.get(user, []) if ws not in dead]
            note["delivered"] = sum(oks)

    @app.events.on("notification.created", priority=EventPriority.LOW)
    def audit(note: dict[str, Any]) -> None:
        live.created += 1

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            note = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "bad user name"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with live.lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await live.send(ws, {"type": "notification", **note})
                await live.send(ws, {"type": "backlog_end", "count": len(backlog)})
                live.tabs.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await live.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await live.send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - the client left
            pass
        finally:
            left = [t for t in live.tabs.get(user, []) if t is not ws]
            if left:
                live.tabs[user] = left
            else:
                live.tabs.pop(user, None)

    return app
