"""Bug: the next seq is MAX(seq) of the user's stored rows or, when higher, the highest seq ever acknowledged (kept by ack), but rows purged because they expired are remembered nowhere, so once all of a user's rows have expired and been purged, seq numbers are handed out again.

Breaks: "**Ids and order:** ids are unique; `seq` increases by one per user and is never reused, not even after acknowledgements or a restart." ... with ttl_seconds=0.3, POST two notifications for ann (seq 1 and 2), wait 0.5 s, POST another: it answers seq 1 again instead of 3.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
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

ROW = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    for key in ("user", "title"):
        if key not in data:
            raise ValueError(f"{key} is required")
    user, title = data["user"], data["title"]
    body = data.get("body", "")
    level = data.get("level", "normal")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be a string of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    if _LONE_SURROGATE.search(title) or _LONE_SURROGATE.search(body):
        raise ValueError("title and body must not hold lone surrogates")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError("the frame is not valid JSON") from exc
    if not isinstance(frame, dict):
        raise ValueError("the frame must be a JSON object")
    if frame.get("type") != "ack":
        raise ValueError("the frame's type must be 'ack'")
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
        raise ValueError("ids must be a list of strings")
    if any(_LONE_SURROGATE.search(x) for x in ids):
        raise ValueError("ids must not hold lone surrogates")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    Acknowledged rows are deleted; ``acked_upto`` remembers, per user, the highest seq
    acknowledged, because MAX(seq) of the rows left would forget it.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute("""
                CREATE TABLE IF NOT EXISTS notifications (
                    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                    created_at REAL NOT NULL, expires_at REAL NOT NULL)""")
            self.db.execute("""
                CREATE TABLE IF NOT EXISTS acked_upto (
                    user TEXT PRIMARY KEY, seq INTEGER NOT NULL)""")

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def _next_seq(self, user: str) -> int:
        (stored,) = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM notifications WHERE user = ?", (user,)).fetchone()
        (acked,) = self.db.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM acked_upto WHERE user = ?", (user,)).fetchone()
        return max(stored, acked) + 1

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self.lock, self.db:
            now = time.time()
            self._purge(now)
            note = {"id": str(uuid.uuid4()), "seq": self._next_seq(user), "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            [note[k] for k in ROW])
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND id NOT IN (SELECT id FROM"
                " notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self.lock, self.db:
            now = time.time()
            self._purge(now)
            rows = self.db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [dict(zip(ROW, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        unique = list(dict.fromkeys(ids))
        with self.lock, self.db:
            now = time.time()
            acked_seqs = []
            for note_id in unique:
                row = self.db.execute(
                    "SELECT seq FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now)).fetchone()
                if row is not None:
                    acked_seqs.append(row[0])
                    self.db.execute("DELETE FROM notifications WHERE id = ?", (note_id,))
            if acked_seqs:
                self.db.execute(
                    "INSERT INTO acked_upto (user, seq) VALUES (?, ?) ON CONFLICT (user)"
                    " DO UPDATE SET seq = MAX(seq, excluded.seq)", (user, max(acked_seqs)))
        return len(acked_seqs)


class Tabs:
    """The live tabs of every user, and one lock per user."""

    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self._tabs: dict[str, list[WebSocket]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, user: str) -> asyncio.Lock:
        return self._locks.setdefault(user, asyncio.Lock())

    def join(self, user: str, ws: WebSocket) -> None:
        """``ws`` becomes a live tab of ``user`` (call it holding the user's lock)."""
        self._tabs.setdefault(user, []).append(ws)

    def discard(self, user: str, ws: WebSocket) -> None:
        tabs = self._tabs.get(user, [])
        if ws in tabs:
            tabs.remove(ws)

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        tabs = list(self._tabs.get(user, []))

        async def one(ws: WebSocket) -> bool:
            try:
                await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
                return True
            except Exception:
                self.discard(user, ws)
                return False

        return sum(await asyncio.gather(*(one(ws) for ws in tabs)))


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
    tabs = Tabs(send_timeout)
    totals = {"notifications": 0}

    async def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        async with tabs.lock(note["user"]):
            stored = store.add(note["user"], {k: note[k] for k in ("title", "body", "level")})
            note.update(stored)
            note["delivered"] = await tabs.push(note["user"], {"type": "notification", **stored})

    async def audit(note: dict[str, Any]) -> None:
        totals["notifications"] += 1

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            payload = json.loads((await req.body).decode("utf-8"))
            note: dict[str, Any] = validate(payload)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def user_notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with tabs.lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                tabs.join(user, ws)
            while (message := await ws.receive())["type"] == "websocket.receive":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    error = str(exc)
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": error})
                    await events.emit("ws.error", {"user": user, "error": error})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            tabs.discard(user, ws)

    return app
