"""Exercise 4: notification_queueing.

Design: the route only parses JSON; the HIGH listener validates (marking a
refused notification, which the MEDIUM and LOW listeners skip and the route
answers 422). The Store opens a short-lived connection per call (every write
committed when it closes); tabs are small dataclasses in a per-app registry,
and a push sends to all of a user's tabs at once with ``asyncio.gather``.
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
from nexios.websockets import WebSocket

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _is_text(value: str) -> bool:
    return not any("\ud800" <= ch <= "\udfff" for ch in value)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    problems = []
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        problems.append("user: 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not (isinstance(title, str) and 0 < len(title) <= MAX_TITLE and not title.isspace()
            and _is_text(title)):
        problems.append(f"title: 1-{MAX_TITLE} characters, not only whitespace")
    body = data["body"] if "body" in data else ""
    if not (isinstance(body, str) and len(body) <= MAX_BODY and _is_text(body)):
        problems.append(f"body: at most {MAX_BODY} characters")
    level = data["level"] if "level" in data else "normal"
    if not (isinstance(level, str) and level in LEVELS):
        problems.append("level: one of " + ", ".join(LEVELS))
    if problems:
        raise ValueError("; ".join(problems))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message["text"]
        if not isinstance(text, str):
            raise ValueError("binary frames are not understood")
        frame = json.loads(text)
    except ValueError:
        raise
    except Exception:  # KeyError (a binary frame), RecursionError, TypeError
        raise ValueError("not a JSON text frame") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('only {"type": "ack", "ids": [...]} is understood')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for one in ids:
        if not isinstance(one, str) or not _is_text(one):
            raise ValueError("every id must be a string")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER NOT"
                       " NULL, user TEXT NOT NULL, title TEXT, body TEXT, level TEXT,"
                       " created_at REAL, expires_at REAL)")
            db.execute("CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY,"
                       " seq INTEGER NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        created = time.time()
        with closing(self._connect()) as db, db:
            row = db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO last_seq VALUES (?, ?)", (user, seq))
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"), "created_at": created,
                    "expires_at": created + self.ttl_seconds}
            db.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       tuple(note[f] for f in self.FIELDS))
            keep = db.execute("SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC"
                              " LIMIT 1 OFFSET ?", (user, max(self.max_per_user - 1, 0))).fetchone()
            if keep is not None:
                db.execute("DELETE FROM queue WHERE user = ? AND seq < ?", (user, keep[0]))
            if self.max_per_user <= 0:
                db.execute("DELETE FROM queue WHERE user = ?", (user,))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            rows = db.execute("SELECT * FROM queue WHERE user = ? AND expires_at > ?"
                              " ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(self.FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        done = 0
        with closing(self._connect()) as db, db:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                done += db.execute(
                    f"DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk)).rowcount
        return done


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    user: str


@dataclass
class Registry:
    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def join(self, tab: Tab) -> None:
        self.tabs.setdefault(tab.user, []).append(tab)

    def leave(self, tab: Tab) -> None:
        mine = self.tabs.get(tab.user, [])
        if tab in mine:
            mine.remove(tab)


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
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    registry = Registry()
    counts = {"created": 0}

    async def send(tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.ws.send_json(frame), send_timeout)
            return True
        except Exception:
            registry.leave(tab)
            return False

    @app.events.on("notification.created", priority=EventPriority.HIGH)
    def check(note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except ValueError as exc:
            note["rejected"] = str(exc)
        else:
            note.update(accepted)

    @app.events.on("notification.created", priority=EventPriority.MEDIUM)
    async def deliver(note: dict[str, Any]) -> None:
        if "rejected" in note:
            return
        async with registry.lock(note["user"]):
            note.update(store.add(note["user"], note))
            frame = {"type": "notification", **{k: note[k] for k in Store.FIELDS}}
            tabs = list(registry.tabs.get(note["user"], []))
            sent = await asyncio.gather(*(send(tab, frame) for tab in tabs))
            note["delivered"] = sum(sent)

    @app.events.on("notification.created", priority=EventPriority.LOW)
    def count(note: dict[str, Any]) -> None:
        if "rejected" not in note:
            counts["created"] += 1

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON text"}, status_code=422)
        if isinstance(data, dict):  # only the fields a client sends: others are ignored
            note = {k: data[k] for k in ("user", "title", "body", "level") if k in data}
        else:
            note = {"rejected": "expected a JSON object"}
        await app.events.emit("notification.created", note)
        if "rejected" in note:
            return res.json({"error": note["rejected"]}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": f"bad user name {user!r}"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws, user)
        try:
            async with registry.lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                registry.join(tab)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            return  # the tab is gone: not an error
        finally:
            registry.leave(tab)

    return app
