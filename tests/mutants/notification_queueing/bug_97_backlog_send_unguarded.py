"""Bug: only the receive loop is wrapped in the disconnect handling; the backlog is sent before the try, so a client that leaves in the middle of its backlog makes a send raise and the handler dies with a traceback in the server log.

Breaks: "A normal disconnect is not an error: no ws.error and no traceback in the server's log, even when the client leaves in the middle of its backlog."
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
from nexios.websockets import WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _ . -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if not _is_text(title):
        raise ValueError("title holds a lone surrogate")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if not _is_text(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be exactly low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        if not isinstance(message, dict):
            raise ValueError("not a WebSocket message")
        text = message.get("text")
        if not isinstance(text, str):
            raise ValueError("binary frames are not accepted: send JSON text")
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("the frame is nested too deeply to parse") from None
        except ValueError:
            raise ValueError("the frame is not JSON") from None
        if not isinstance(data, dict):
            raise ValueError("the frame must be a JSON object")
        if data.get("type") != "ack":
            raise ValueError('the frame type must be "ack"')
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if not all(_is_text(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception:
        raise ValueError("the frame could not be read") from None


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
                " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO last_seq VALUES (?, 1) ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            note = {
                "id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                "body": fields["body"], "level": fields["level"],
                "created_at": now, "expires_at": now + self.ttl,
            }
            self.db.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (note["id"], user, seq, note["title"], note["body"], note["level"],
                 note["created_at"], note["expires_at"]),
            )
            self._purge(now)
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.cap),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self._purge(now)
        rows = self.db.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notifications"
            " WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now),
        ).fetchall()
        keys = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
        return [dict(zip(keys, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self.db:
            for i in set(ids):
                cur = self.db.execute(
                    "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                    (user, i, now),
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
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, list[Any]] = defaultdict(list)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit: dict[str, int] = defaultdict(int)

    async def push(user: str, frame: dict[str, Any]) -> int:
        text = json.dumps(frame)
        delivered = 0
        for ws in list(tabs[user]):
            try:
                await asyncio.wait_for(ws.send_text(text), send_timeout)
            except Exception:
                if ws in tabs[user]:
                    tabs[user].remove(ws)
                continue
            delivered += 1
        return delivered

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            stored = store.add(user, note)
            note["id"], note["seq"] = stored["id"], stored["seq"]
            note["delivered"] = await push(user, {"type": "notification", **stored})

    def count(note: dict[str, Any]) -> None:
        audit[note["user"]] += 1

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not valid UTF-8 JSON"}, status_code=422)
        try:
            note = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", note)
        if "seq" not in note:
            errors = getattr(result, "errors", None)
            return res.json({"error": f"could not store it: {errors}"}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]}, status_code=201
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: Any) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if NAME.fullmatch(user) is None:
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "bad user name"}))
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        async with locks[user]:
            backlog = store.pending(user)
            for note in backlog:
                await ws.send_text(json.dumps({"type": "notification", **note}))
            await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
            tabs[user].append(ws)
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_text(json.dumps({"type": "acked", "count": store.ack(user, ids)}))
        except WebSocketDisconnect:
            pass
        finally:
            if ws in tabs[user]:
                tabs[user].remove(ws)

    return app
