"""Bug: the route catches only json.JSONDecodeError, UnicodeDecodeError and RecursionError around json.loads, so the plain ValueError that json.loads raises for an integer of more than 4,300 digits escapes and the request ends in a 500.

Breaks: "Never a 500 and never a traceback, whatever the body holds." and "A number where a string belongs (`"title": 1e999`, `"level": NaN`, a number of 5,000 digits) is a bad field." ... POST {"user": "ann", "title": 999...9} with a 5,000-digit number (or the same number in an ignored field) answers 500 with a traceback in the server log instead of 422.
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

_SURROGATE = re.compile("[\ud800-\udfff]")
_MISSING = object()


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user", _MISSING)
    if user is _MISSING:
        raise ValueError("user is missing")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z a-z 0-9 _ . -")
    title = data.get("title", _MISSING)
    if title is _MISSING:
        raise ValueError("title is missing")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if len(title) < 1 or len(title) > MAX_TITLE:
        raise ValueError(f"title must have 1 to {MAX_TITLE} characters")
    if title.strip() == "":
        raise ValueError("title must not be blank")
    body = data.get("body", "")
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must have at most {MAX_BODY} characters")
    if _SURROGATE.search(title) or _SURROGATE.search(body):
        raise ValueError("title and body must be valid text")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if message.get("text") is None:
        raise ValueError("binary frame")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"invalid JSON ({type(exc).__name__})") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame must be a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('the frame type must be "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or any(not isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_SURROGATE.search(i) for i in ids):
        raise ValueError("ids must be valid text")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    _COLS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, seq INTEGER,"
                " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS sequences (user TEXT PRIMARY KEY, seq INTEGER)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self.lock, self.db:
            now = time.time()
            self.db.execute("INSERT OR IGNORE INTO sequences VALUES (?, 0)", (user,))
            self.db.execute("UPDATE sequences SET seq = seq + 1 WHERE user = ?", (user,))
            seq = self.db.execute("SELECT seq FROM sequences WHERE user = ?", (user,)).fetchone()[0]
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [note[c] for c in self._COLS])
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            keep = self.db.execute(
                "SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (user, self.max_per_user - 1)).fetchone()
            if keep is not None:
                self.db.execute("DELETE FROM notifications WHERE user = ? AND seq < ?",
                                (user, keep["seq"]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self.lock, self.db:
            now = time.time()
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = self.db.execute(
                "SELECT * FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [{c: row[c] for c in self._COLS} for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self.lock, self.db:
            now = time.time()
            return sum(
                self.db.execute(
                    "DELETE FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
                    (i, user, now)).rowcount
                for i in set(ids))


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
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: defaultdict[str, set[WebSocket]] = defaultdict(set)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    counts: dict[str, int] = {"low": 0, "normal": 0, "high": 0}

    async def deliver(user: str, frame: dict[str, Any]) -> int:
        targets = list(tabs[user])

        async def one(ws: WebSocket) -> bool:
            try:
                await asyncio.wait_for(ws.send_json(frame), send_timeout)
                return True
            except Exception:
                tabs[user].discard(ws)
                return False

        return sum(await asyncio.gather(*map(one, targets)))

    @bus.on("notification.created", priority=EventPriority.HIGH)
    def with_defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    @bus.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_then_push(note: dict[str, Any]) -> None:
        async with locks[note["user"]]:
            saved = store.add(note["user"], {k: note[k] for k in ("title", "body", "level")})
            note.update(saved)
            note["delivered"] = await deliver(note["user"], {"type": "notification", **saved})

    @bus.on("notification.created", priority=EventPriority.LOW)
    def count_levels(note: dict[str, Any]) -> None:
        counts[note["level"]] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            return res.json({"error": "the body is not valid UTF-8 JSON"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await bus.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def receive(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": f"bad user name: {user!r}"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                tabs[user].add(ws)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            tabs[user].discard(ws)

    return app
