"""Bug: the route copies the lesson's `dict(await req.json)`, so a JSON array of key/value pairs is turned into a dict and accepted as if it were an object.

Breaks: "Invalid JSON, not an object, or a bad field: **422** `{"error": "<what is wrong>"}`, and **nothing is stored** (no sequence number is used up)." ... the body [["user", "ann"], ["title", "hi"]] is not an object, yet it gets 201, is stored with seq 1 and pushed to ann.
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
from nexios.websockets import WebSocket

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


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _has_surrogate(title) or _has_surrogate(body):
        raise ValueError("title and body must not hold lone surrogates")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of 'low', 'normal', 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('a frame must be an object whose type is "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("ids must not hold lone surrogates")
    return ids


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
                " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )

    def _purge(self, now: float) -> None:
        self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock, self._db:
            now = time.time()
            row = self._db.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            self._db.execute(
                "INSERT INTO counters (user, last) VALUES (?, ?)"
                " ON CONFLICT(user) DO UPDATE SET last = excluded.last",
                (user, seq),
            )
            note = {
                "id": uuid.uuid4().hex, "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds,
            }
            self._db.execute(
                f"INSERT INTO notes ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})",
                tuple(note[k] for k in FIELDS),
            )
            self._purge(now)
            self._db.execute(
                "DELETE FROM notes WHERE user = ? AND id NOT IN"
                " (SELECT id FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.max_per_user, 0)),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._lock, self._db:
            now = time.time()
            self._purge(now)
            rows = self._db.execute(
                f"SELECT {', '.join(FIELDS)} FROM notes WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        count = 0
        with self._lock, self._db:
            now = time.time()
            for note_id in set(ids):
                cur = self._db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                )
                count += cur.rowcount
        return count


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, set[Any]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit: list[tuple[str, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    def check(notification: dict[str, Any]) -> None:
        """HIGH: validate and fill in the defaults; mark a refused one for the others."""
        try:
            accepted = validate(notification)
        except ValueError:
            notification["rejected"] = True
            raise
        notification.clear()  # other fields are neither stored nor delivered
        notification.update(accepted)

    async def store_and_push(notification: dict[str, Any]) -> None:
        """MEDIUM: commit, then push to every open tab of the user."""
        if notification.get("rejected"):
            return
        user = notification["user"]
        async with lock_for(user):
            stored = store.add(user, notification)
            notification.update(stored)
            tabs = list(live.get(user, ()))
            frame = {"type": "notification", **stored}
            results = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok:
                    live.get(user, set()).discard(ws)
            notification["delivered"] = sum(results)

    def audit_note(notification: dict[str, Any]) -> None:
        """LOW: count what was created."""
        if notification.get("rejected"):
            return
        audit.append((notification["user"], notification.get("delivered", 0)))

    app.events.on("notification.created", check, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit_note, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            notification = dict(json.loads((await req.body).decode("utf-8")))
        except (ValueError, TypeError, RecursionError):
            return res.json({"error": "the body must be a JSON object (UTF-8)"}, status_code=422)
        result = await app.events.emit("notification.created", notification)
        if notification.get("rejected") or "seq" not in notification:
            error = str(result.errors[0]) if result.errors else "the notification was refused"
            return res.json({"error": error}, status_code=422)
        return res.json({"id": notification["id"], "seq": notification["seq"],
                         "delivered": notification.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            last, count = 0, 0
            while True:
                rows = [n for n in store.pending(user) if n["seq"] > last]
                if not rows:
                    async with lock_for(user):
                        rows = [n for n in store.pending(user) if n["seq"] > last]
                        if not rows:
                            if not await send(ws, {"type": "backlog_end", "count": count}):
                                return
                            live.setdefault(user, set()).add(ws)
                            break
                for note in rows:
                    if not await send(ws, {"type": "notification", **note}):
                        return
                    last, count = note["seq"], count + 1
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = store.ack(user, ids)
                await ws.send_json({"type": "acked", "count": count})
        except Exception:
            return
        finally:
            tabs = live.get(user)
            if tabs is not None:
                tabs.discard(ws)

    return app
