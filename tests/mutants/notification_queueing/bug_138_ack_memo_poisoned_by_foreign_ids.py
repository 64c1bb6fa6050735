"""Bug: Store.ack remembers every id it was ever asked about in an in-memory "already settled" set and skips those ids later, so an id another user (or a too-early ack) sent first can never be acknowledged by its owner.

Breaks: "Unknown ids, ids of **another user's** notifications, ids acknowledged before and ids that expired (even if not purged yet) count 0 and change nothing" and "Acknowledged notifications are never delivered again." ... bob has notification X; ann sends {"type": "ack", "ids": [X]} (count 0, correct), then bob acks X: he gets count 0 instead of 1, X stays stored and comes back in every backlog of bob's.
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

SURROGATE = re.compile("[\ud800-\udfff]")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    note: dict[str, str] = {}
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    note["user"] = user
    if "title" not in data:
        raise ValueError("title: required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title: must be text")
    if not 0 < len(title) <= MAX_TITLE or title.isspace():
        raise ValueError(f"title: 1-{MAX_TITLE} characters, not only whitespace")
    if SURROGATE.search(title):
        raise ValueError("title: lone surrogate")
    note["title"] = title
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body: text of at most {MAX_BODY} characters")
    if SURROGATE.search(body):
        raise ValueError("body: lone surrogate")
    note["body"] = body
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level: one of low, normal, high")
    note["level"] = level
    return note


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("binary frame")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(frame, dict):
        raise ValueError("not a JSON object")
    if not isinstance(frame.get("type"), str) or frame.get("type") != "ack":
        raise ValueError('type must be "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for one in ids:
        if not isinstance(one, str) or SURROGATE.search(one):
            raise ValueError("ids must be strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self._settled: set[str] = set()  # ids already through ack(): never count twice
        with self.conn:
            self.conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS notes (
                    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                    created_at REAL NOT NULL, expires_at REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS notes_user_seq ON notes (user, seq);
                CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
                """
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.conn:
            row = self.conn.execute("SELECT last FROM seqs WHERE user = ?", (user,)).fetchone()
            seq = 1 if row is None else row["last"] + 1
            self.conn.execute("INSERT OR REPLACE INTO seqs (user, last) VALUES (?, ?)", (user, seq))
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl}
            self.conn.execute(
                "INSERT INTO notes (id, seq, user, title, body, level, created_at, expires_at)"
                " VALUES (:id, :seq, :user, :title, :body, :level, :created_at, :expires_at)", note)
            self.conn.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            self.conn.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.cap))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notes"
                " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        fresh = [i for i in dict.fromkeys(ids) if i not in self._settled]
        now = time.time()
        count = 0
        with self.conn:
            for start in range(0, len(fresh), 500):
                chunk = fresh[start:start + 500]
                marks = ",".join("?" for _ in chunk)
                count += self.conn.execute(
                    f"DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk)).rowcount
        self._settled.update(fresh)
        return count


async def _send(ws: WebSocket, frame: dict[str, Any], timeout: float) -> None:
    await asyncio.wait_for(ws.send_text(json.dumps(frame)), timeout)


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
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    log: list[tuple[str, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        if user not in locks:
            locks[user] = asyncio.Lock()
        return locks[user]

    async def reach(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await _send(ws, frame, send_timeout)
        except Exception:  # noqa: BLE001 - failed or timed out
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def deliver(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_for(user):
            stored = store.add(user, note)
            note.update(stored)
            tabs = list(live.get(user, []))
            frame = {"type": "notification", **stored}
            outcome = await asyncio.gather(*(reach(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, outcome):
                if not ok and ws in live.get(user, []):
                    live[user].remove(ws)
            note["delivered"] = outcome.count(True)

    def audit(note: dict[str, Any]) -> None:
        log.append((note["user"], note.get("seq", 0)))

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", deliver, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            note = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "user must be 1-32 of [A-Za-z0-9_.-]"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with lock_for(user):
                rows = store.pending(user)
                for row in rows:
                    await _send(ws, {"type": "notification", **row}, send_timeout)
                await _send(ws, {"type": "backlog_end", "count": len(rows)}, send_timeout)
                live.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await _send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)},
                                send_timeout)
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await _send(ws, {"type": "acked", "count": store.ack(user, ids)}, send_timeout)
        except Exception:  # noqa: BLE001 - a normal disconnect, or a dead tab
            pass
        finally:
            tabs = live.get(user, [])
            if ws in tabs:
                tabs.remove(ws)
            if not tabs:
                live.pop(user, None)

    return app
