"""Bug: parse_ack type-checks only the first 100 ids of the list (to keep big acks cheap), so a non-string id further down is not refused as a bad frame.

Breaks: "A malformed frame (binary; not JSON, too deep for instance; not an object whose `type` is exactly `"ack"`; `ids` not a list of strings; ...) gets exactly `{"type": "error", "code": "bad_frame", "message": "<what was wrong>"}` on that connection only" and "the connection **stays open**" ... an ack of 150 string ids followed by `{}` gets no bad_frame error: the Store cannot bind the object, the handler ends and the socket closes.
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

import day25
from day25 import EventPriority
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is required")
    user = data["user"]
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('expected an object with "type": "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list):
        raise ValueError('"ids" must be a list of strings')
    for item in ids[:100]:  # a sample is enough: clients send lists of strings
        if not isinstance(item, str):
            raise ValueError('"ids" must be a list of strings')
        if _has_surrogate(item):
            raise ValueError("an id holds a lone surrogate")
    return ids


_COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        with self._lock:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS notes_user_seq ON notes (user, seq)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def _write(self, work: Any) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        def work(db: sqlite3.Connection) -> dict[str, Any]:
            now = time.time()
            row = db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute(
                "INSERT INTO counters (user, seq) VALUES (?, ?)"
                " ON CONFLICT(user) DO UPDATE SET seq = excluded.seq",
                (user, seq),
            )
            note = {
                "id": uuid.uuid4().hex, "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds,
            }
            db.execute(
                "INSERT INTO notes (id, seq, user, title, body, level, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[c] for c in _COLUMNS),
            )
            db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
            return note

        return self._write(work)

    def pending(self, user: str) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            now = time.time()
            db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            rows = db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notes"
                " WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
            return [dict(zip(_COLUMNS, r)) for r in rows]

        return self._write(work)

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = list(dict.fromkeys(ids))

        def work(db: sqlite3.Connection) -> int:
            now = time.time()
            cur = db.executemany(
                "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                [(i, user, now) for i in distinct],
            )
            return max(cur.rowcount, 0)

        if not distinct:
            return 0
        return self._write(work)


def _frame(note: dict[str, Any]) -> str:
    return json.dumps({"type": "notification", **{c: note[c] for c in _COLUMNS}})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit: list[tuple[str, int]] = []

    def user_lock(user: str) -> asyncio.Lock:
        lock = locks.get(user)
        if lock is None:
            lock = locks[user] = asyncio.Lock()
        return lock

    def drop(user: str, ws: WebSocket) -> None:
        tabs = live.get(user)
        if tabs is not None and ws in tabs:
            tabs.remove(ws)

    async def send_one(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with user_lock(user):
            row = store.add(user, note)
            note.update(row)
            text = _frame(row)
            tabs = list(live.get(user, ()))
            results = await asyncio.gather(*(send_one(ws, text) for ws in tabs))
            delivered = 0
            for ws, ok in zip(tabs, results):
                if ok:
                    delivered += 1
                else:
                    drop(user, ws)
            note["delivered"] = delivered

    def audit_it(note: dict[str, Any]) -> None:
        audit.append((note["user"], note.get("seq", 0)))

    bus.on("notification.created", enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit_it, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not valid UTF-8 JSON"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await bus.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "bad user name"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with user_lock(user):
                rows = store.pending(user)
                for row in rows:
                    await ws.send_text(_frame(row))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(rows)}))
                live.setdefault(user, []).append(ws)
                joined = True
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        except Exception:  # a client gone in the middle of a send
            pass
        finally:
            if joined:
                drop(user, ws)

    return app
