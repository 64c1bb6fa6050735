"""Bug: the id is the rowid of an INTEGER PRIMARY KEY without AUTOINCREMENT, which SQLite hands out again once the newest row has been deleted by an ack.

Breaks: "where `ID` is a unique string" ... "**Ids and order:** ids are unique" ... "clients de-duplicate by `id`" ... ann's notification gets id "1" and she acknowledges it (the row is deleted); the next notification, for bob or for ann, gets id "1" again, and a client de-duplicating by id throws it away.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
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


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be blank")
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    if _has_surrogate(title) or _has_surrogate(body):
        raise ValueError("title and body must be text (no lone surrogates)")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("expected a text frame")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("ids must be text")
    return ids


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it."""
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1)"
                " ON CONFLICT(user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            note = {"id": None, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"], "created_at": now,
                    "expires_at": now + self.ttl_seconds}
            # SQLite hands out a unique rowid for an INTEGER PRIMARY KEY: use it as the id
            cur = self.db.execute(
                "INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [note[c] for c in COLUMNS]
            )
            note["id"] = str(cur.lastrowid)
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND id NOT IN"
                " (SELECT id FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notes WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, (str(row[0]), *row[1:]))) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        now = time.time()
        with self.db:
            cur = self.db.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at > ?"
                " AND CAST(id AS TEXT) IN (SELECT value FROM json_each(?))",
                (user, now, json.dumps(sorted(set(ids)))),
            )
        return cur.rowcount


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
    audit = {"created": 0}

    def lock_of(user: str) -> asyncio.Lock:
        if user not in locks:
            locks[user] = asyncio.Lock()
        return locks[user]

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_of(user):
            row = store.add(user, note)
            note.update(row)
            frame = {"type": "notification", **row}
            tabs = list(live.get(user, []))
            results = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in live.get(user, []):
                    live[user].remove(ws)
            note["delivered"] = sum(results)

    def count(note: dict[str, Any]) -> None:
        audit["created"] += 1

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
            fields = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or type(exc).__name__}, status_code=422)
        note: dict[str, Any] = dict(fields)
        result = await app.events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": f"not stored: {result.errors}"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with lock_of(user):
            rows = store.pending(user)
            for row in rows:
                if not await send(ws, {"type": "notification", **row}):
                    return
            if not await send(ws, {"type": "backlog_end", "count": len(rows)}):
                return
            live.setdefault(user, []).append(ws)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                n = store.ack(user, ids)
                await send(ws, {"type": "acked", "count": n})
        except Exception:
            pass
        finally:
            if ws in live.get(user, []):
                live[user].remove(ws)

    return app
