"""Bug: the cap keeps the newest max_per_user notifications of the whole table, not of each user.

Breaks: "Cap and overflow rule: at most `max_per_user` unacknowledged notifications are
kept per user; when a new one would exceed the cap, the oldest (lowest seq) is dropped."
(A notification for bob can push ann's notifications out of the queue.)
"""

from __future__ import annotations

import asyncio
import contextlib
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
SEND_TIMEOUT = 2.0


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _ . -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "") if "body" in data else ""
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str):
            raise ValueError("body must be a string")
        if len(body) > MAX_BODY:
            raise ValueError(f"body must be at most {MAX_BODY} characters")
        if _has_surrogate(body):
            raise ValueError("body holds a lone surrogate")
    level = "normal"
    if "level" in data:
        level = data["level"]
        if not isinstance(level, str) or level not in LEVELS:
            raise ValueError("level must be low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        text = message.get("text")
        if not isinstance(text, str):
            raise ValueError("frames must be text, not binary")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("frame nested too deeply") from None
        except ValueError as exc:
            raise ValueError(f"frame is not JSON: {exc}") from None
        if not isinstance(frame, dict) or frame.get("type") != "ack":
            raise ValueError('a frame must be an object with "type": "ack"')
        ids = frame.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # never anything but ValueError
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS by_user ON notifications (user, seq)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {
            "id": uuid.uuid4().hex,
            "user": user,
            "title": fields["title"],
            "body": fields.get("body", ""),
            "level": fields.get("level", "normal"),
            "created_at": now,
            "expires_at": now + self.ttl,
        }
        with self._lock, self._db:
            self._db.execute(
                "INSERT INTO last_seq (user, seq) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self._db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            note["seq"] = seq
            self._db.execute(
                "INSERT INTO notifications (id, seq, user, title, body, level, created_at, expires_at)"
                " VALUES (:id, :seq, :user, :title, :body, :level, :created_at, :expires_at)",
                note,
            )
            self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            self._db.execute(
                "DELETE FROM notifications WHERE id NOT IN"
                " (SELECT id FROM notifications ORDER BY created_at DESC LIMIT ?)",
                (self.cap,),
            )
        return {k: note[k] for k in COLUMNS}

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._lock, self._db:
            self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = self._db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        distinct = list(dict.fromkeys(ids))
        count = 0
        with self._lock, self._db:
            for note_id in distinct:
                cur = self._db.execute(
                    "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                    (user, note_id, now),
                )
                count += cur.rowcount
        return count


def _frame(note: dict[str, Any]) -> str:
    return json.dumps({"type": "notification", **{k: note[k] for k in COLUMNS}})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, set[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit_log: list[tuple[str, int]] = []

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send_or_drop(user: str, ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
            return True
        except Exception:
            tabs.get(user, set()).discard(ws)
            return False

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_of(user):
            stored = store.add(user, note)  # committed before any push
            note.update(stored)
            text = _frame(stored)
            live = list(tabs.get(user, ()))
            results = await asyncio.gather(*(send_or_drop(user, ws, text) for ws in live))
            note["delivered"] = sum(results)

    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note.get("user", "?"), note.get("delivered", 0)))

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req, res):
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            return res.json({"error": "JSON nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": f"invalid JSON: {exc}"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", note)
        if "seq" not in note:
            detail = str(result.errors[0]) if result.errors else "not stored"
            return res.json({"error": detail}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket):
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            with contextlib.suppress(Exception):
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "user must be 1-32 characters of A-Z, a-z, 0-9, _ . -"})
                await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with lock_of(user):
                backlog = store.pending(user)
                for note in backlog:
                    await asyncio.wait_for(ws.send_text(_frame(note)), send_timeout)
                await asyncio.wait_for(
                    ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)})),
                    send_timeout,
                )
                tabs.setdefault(user, set()).add(ws)
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
        except Exception:
            pass  # the client left (or its tab broke): not an error of the protocol
        finally:
            tabs.get(user, set()).discard(ws)

    return app
