"""Bug: the acked and bad_frame replies are sent while holding the user's lock (to keep them apart from pushes) and without send_timeout, so a tab that stalls while being answered blocks every later POST and connect of that user.

Breaks: "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab from the live ones: no later push tries it (so a stalled tab costs at most one `send_timeout`)" ... ann's tab stops reading and sends an ack: its reply never completes, and every later POST for ann (and a new tab of ann) hangs instead of answering within one send_timeout.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
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


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is required")
    user = data["user"]
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _ . -")
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
    body = data.get("body", "")
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind != "ack":
        raise ValueError('the frame\'s type must be "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list of strings")
    for item in ids:
        if not isinstance(item, str) or _has_surrogate(item):
            raise ValueError("ids must be a list of strings")
    return list(ids)


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                  timeout=10)
        self.db.row_factory = sqlite3.Row
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
            " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
            " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY,"
                        " seq INTEGER NOT NULL)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {"id": uuid.uuid4().hex, "seq": 0, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds}
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("INSERT INTO counters (user, seq) VALUES (?, 1) ON CONFLICT(user)"
                            " DO UPDATE SET seq = seq + 1", (user,))
            (note["seq"],) = self.db.execute("SELECT seq FROM counters WHERE user = ?",
                                             (user,)).fetchone()
            self.db.execute("INSERT INTO notes VALUES (:id, :user, :seq, :title, :body,"
                            " :level, :created_at, :expires_at)", note)
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND id NOT IN (SELECT id FROM notes"
                " WHERE user = ? ORDER BY seq DESC LIMIT ?)", (user, user, self.max_per_user))
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self.db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
        rows = self.db.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notes"
            " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for one in dict.fromkeys(ids):
                cur = self.db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (one, user, now))
                count += cur.rowcount
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return count


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
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    live: defaultdict[str, list[WebSocket]] = defaultdict(list)

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            stored = store.add(user, note)
            note.update(stored)
            frame = {"type": "notification", **stored}
            tabs = list(live[user])
            results = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in live[user]:
                    live[user].remove(ws)
            note["delivered"] = sum(results)

    audit_log: list[tuple[str, int]] = []

    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note["user"], note.get("seq", 0)))

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
            note: dict[str, Any] = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await events.emit("notification.created", note)
        if "id" not in note:
            errors = getattr(result, "errors", ())
            return res.json({"error": str(errors[0]) if errors else "not stored"},
                            status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        async with locks[user]:
            backlog = store.pending(user)
            for note in backlog:
                if not await send(ws, {"type": "notification", **note}):
                    return
            if not await send(ws, {"type": "backlog_end", "count": len(backlog)}):
                return
            live[user].append(ws)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    async with locks[user]:  # one sender at a time on this user's tabs
                        await ws.send_json({"type": "error", "code": "bad_frame",
                                            "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                async with locks[user]:
                    count = store.ack(user, ids)
                    await ws.send_json({"type": "acked", "count": count})
        except Exception:
            pass
        finally:
            if ws in live[user]:
                live[user].remove(ws)

    return app
