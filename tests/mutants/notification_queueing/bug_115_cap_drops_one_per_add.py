"""Bug: Store.add enforces the cap by deleting at most ONE oldest row before each insert (when the count has reached max_per_user), so a queue that is already over the cap (a restart with a smaller max_per_user) stays over it.

Breaks: "at most `max_per_user` unacknowledged notifications are kept per user ... when a new one would exceed the cap, the **oldest (lowest seq) is dropped**" and the stub's "Afterwards the user has at most ``max_per_user`` stored notifications: the oldest (lowest seq) go." ... five notifications stored with max_per_user=5, a restart with max_per_user=2 on the same db_path, then one more POST: the backlog holds five notifications (t1-t5) instead of the newest two (t4, t5).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import dataclass, field
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


def _lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise ValueError("a notification must be a JSON object")
    if "user" not in data:
        raise ValueError("missing field: user")
    if "title" not in data:
        raise ValueError("missing field: title")
    user, title = data["user"], data["title"]
    body = data["body"] if "body" in data else ""
    level = data["level"] if "level" in data else "normal"
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 0 < len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters long")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters long")
    if _lone_surrogate(title) or _lone_surrogate(body):
        raise ValueError("title and body must not contain lone surrogates")
    if level not in LEVELS or not isinstance(level, str):
        raise ValueError("level must be one of: low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("expected a text frame")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deeply") from None
    except ValueError:
        raise ValueError("the frame is not JSON") from None
    if type(frame) is not dict or frame.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if type(ids) is not list:
        raise ValueError("ids must be a list")
    if not all(type(i) is str and not _lone_surrogate(i) for i in ids):
        raise ValueError("every id must be a string")
    return list(ids)


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    One short-lived connection per call: every call commits before it returns.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS note (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
                       " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                       " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS user_seq (user TEXT PRIMARY KEY,"
                       " next_seq INTEGER NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    @staticmethod
    def _as_dict(row: sqlite3.Row) -> dict[str, Any]:
        return {k: row[k] for k in ("id", "seq", "user", "title", "body", "level",
                                    "created_at", "expires_at")}

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with closing(self._connect()) as db, db:
            db.execute("BEGIN IMMEDIATE")
            now = time.time()
            db.execute("DELETE FROM note WHERE user = ? AND expires_at <= ?", (user, now))
            row = db.execute("SELECT next_seq FROM user_seq WHERE user = ?", (user,)).fetchone()
            seq = row["next_seq"] if row else 1
            db.execute("INSERT OR REPLACE INTO user_seq (user, next_seq) VALUES (?, ?)",
                       (user, seq + 1))
            (count,) = db.execute("SELECT COUNT(*) FROM note WHERE user = ?", (user,)).fetchone()
            if count >= self.max_per_user:
                db.execute("DELETE FROM note WHERE id = (SELECT id FROM note WHERE user = ?"
                           " ORDER BY seq LIMIT 1)", (user,))
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"], "created_at": now,
                    "expires_at": now + self.ttl_seconds}
            db.execute("INSERT INTO note (id, user, seq, title, body, level, created_at, expires_at)"
                       " VALUES (:id, :user, :seq, :title, :body, :level, :created_at, :expires_at)",
                       note)
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with closing(self._connect()) as db, db:
            now = time.time()
            db.execute("DELETE FROM note WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT * FROM note WHERE user = ? AND expires_at > ? ORDER BY seq",
                              (user, now)).fetchall()
        return [self._as_dict(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = set(ids)
        if not wanted:
            return 0
        with closing(self._connect()) as db, db:
            now = time.time()
            done = 0
            for note_id in wanted:
                done += db.execute("DELETE FROM note WHERE user = ? AND id = ? AND expires_at > ?",
                                   (user, note_id, now)).rowcount
        return done


@dataclass(eq=False)
class Tab:
    """One open WebSocket of a user."""

    ws: WebSocket
    user: str
    live: bool = False


@dataclass
class Hub:
    """The live tabs, per user, and a lock per user around "store, push" and "backlog, join"."""

    send_timeout: float
    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def join(self, tab: Tab) -> None:
        tab.live = True
        self.tabs.setdefault(tab.user, []).append(tab)

    def leave(self, tab: Tab) -> None:
        tab.live = False
        members = self.tabs.get(tab.user, [])
        if tab in members:
            members.remove(tab)

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        members = [t for t in self.tabs.get(user, []) if t.live]

        async def send(tab: Tab) -> bool:
            try:
                await asyncio.wait_for(tab.ws.send_json(frame), self.send_timeout)
                return True
            except Exception:
                self.leave(tab)
                return False

        return sum(await asyncio.gather(*(send(t) for t in members)))


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
    log: list[str] = []

    def check(note: dict[str, Any]) -> None:
        """HIGH: validate and fill in the defaults; a refused one is marked, never stored."""
        try:
            accepted = validate(note.pop("raw"))
        except ValueError as exc:
            note["refused"] = str(exc)
            return
        note.update(accepted)

    async def store_and_push(note: dict[str, Any]) -> None:
        """MEDIUM: commit, then push to every live tab of the user."""
        if "refused" in note:
            return
        user = note["user"]
        async with hub.lock(user):
            stored = store.add(user, {"title": note["title"], "body": note["body"],
                                      "level": note["level"]})
            note.update(stored)
            note["delivered"] = await hub.push(user, {"type": "notification", **stored})

    def audit(note: dict[str, Any]) -> None:
        """LOW: keep a line per created notification."""
        if "refused" not in note:
            log.append(f"{note['user']}#{note['seq']} delivered={note['delivered']}")

    events.on("notification.created", check, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            raw = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body must be JSON in UTF-8"}, status_code=422)
        note: dict[str, Any] = {"raw": raw}
        await events.emit("notification.created", note)
        if "refused" in note:
            return res.json({"error": note["refused"]}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws, user)
        try:
            async with hub.lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                hub.join(tab)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            hub.leave(tab)

    return app
