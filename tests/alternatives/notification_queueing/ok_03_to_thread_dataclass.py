"""OK variant (style: the SQLite work runs off the event loop with
``asyncio.to_thread``, one connection per call; the seq counter lives in a
``counters`` table bumped with ``UPDATE ... RETURNING``; a ``Notification``
dataclass; the push bounds each send with ``asyncio.timeout`` in a helper that
returns True/False; per-user locks in a ``defaultdict``; the request body is
decoded strictly as UTF-8 by hand; the HIGH listener re-validates).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from dataclasses import asdict, dataclass
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


def _name_ok(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_.\-]{1,32}", value, re.ASCII) is not None


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if not _name_ok(data.get("user")):
        raise ValueError("bad or missing user")
    title = data.get("title")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if len(title) > MAX_TITLE:
        raise ValueError("title is too long")
    if title.strip() == "":
        raise ValueError("title is empty or only whitespace")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError("bad body")
    level = data["level"] if "level" in data else "normal"
    if not any(level == name and isinstance(level, str) for name in LEVELS):
        raise ValueError("bad level")
    return {"user": data["user"], "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("expected a text frame")
    try:
        data = json.loads(message["text"])
    except Exception as exc:
        raise ValueError(f"bad JSON ({type(exc).__name__})") from None
    match data:
        case {"type": "ack", "ids": list(ids)} if all(isinstance(i, str) for i in ids):
            return list(ids)
        case {"type": "ack"}:
            raise ValueError("ids must be a list of strings")
        case _:
            raise ValueError("not an ack frame")


@dataclass
class Notification:
    id: str
    seq: int
    user: str
    title: str
    body: str
    level: str
    created_at: float
    expires_at: float


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path, self.ttl, self.cap = path, float(ttl_seconds), int(max_per_user)
        db = self._db()
        try:
            db.executescript("""
                CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, value INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS items (
                    id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,
                    data TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL);
            """)
        finally:
            db.close()

    def _db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=10, isolation_level=None)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = Notification(uuid.uuid4().hex, 0, user, fields["title"], fields.get("body", ""),
                            fields.get("level", "normal"), now, now + self.ttl)
        data = json.dumps({"title": note.title, "body": note.body, "level": note.level})
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT OR IGNORE INTO counters VALUES (?, 0)", (user,))
            (note.seq,) = db.execute("UPDATE counters SET value = value + 1 WHERE user = ? "
                                     "RETURNING value", (user,)).fetchone()
            db.execute("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?)",
                       (note.id, user, note.seq, data, note.created_at, note.expires_at))
            db.execute("DELETE FROM items WHERE expires_at <= ?", (now,))
            keep = db.execute("SELECT seq FROM items WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                              (user, self.cap - 1)).fetchone()
            if keep is not None:
                db.execute("DELETE FROM items WHERE user = ? AND seq < ?", (user, keep[0]))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            db.close()
        return asdict(note)

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        db = self._db()
        try:
            db.execute("DELETE FROM items WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT id, seq, user, data, created_at, expires_at FROM items "
                              "WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        finally:
            db.close()
        out = []
        for nid, seq, owner, data, created, expires in rows:
            d = json.loads(data)
            out.append(asdict(Notification(nid, seq, owner, d["title"], d["body"], d["level"],
                                           created, expires)))
        return out

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        safe = {i for i in ids if i.encode("utf-8", "replace").decode("utf-8") == i}
        db = self._db()
        try:
            db.execute("BEGIN IMMEDIATE")
            n = sum(db.execute("DELETE FROM items WHERE user = ? AND id = ? AND expires_at > ?",
                               (user, i, now)).rowcount for i in safe)
            db.execute("COMMIT")
            return n
        finally:
            db.close()


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The notification service of ``docs/exercises/notification_queueing.md``."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: defaultdict[str, list[Any]] = defaultdict(list)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    counted = [0]

    async def send(ws: Any, text: str) -> bool:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.send_text(text)
            return True
        except Exception:
            return False

    def check(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def keep_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            saved = await asyncio.to_thread(store.add, user, note)
            tabs = list(live[user])
            text = json.dumps({"type": "notification", **saved})
            results = await asyncio.gather(*(send(ws, text) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in live[user]:
                    live[user].remove(ws)
            note.update(id=saved["id"], seq=saved["seq"], delivered=sum(results))

    def audit(note: dict[str, Any]) -> None:
        counted[0] += 1

    bus.on("notification.created", check, priority=EventPriority.HIGH)
    bus.on("notification.created", keep_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req, res):
        raw: bytes = await req.body
        try:
            data = json.loads(raw.decode("utf-8", errors="strict"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "invalid JSON"}, status_code=422)
        try:
            note = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await bus.emit("notification.created", note)
        if not result.ok:
            return res.json({"error": "internal error"}, status_code=500)
        return res.json({k: note[k] for k in ("id", "seq", "delivered")}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not _name_ok(user):
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "user must be 1-32 of [A-Za-z0-9_.-]"})
                await ws.close(BAD_REQUEST_CLOSE)
            finally:
                return
        joined = False
        try:
            async with locks[user]:
                backlog = await asyncio.to_thread(store.pending, user)
                for note in backlog:
                    if not await send(ws, json.dumps({"type": "notification", **note})):
                        return
                if not await send(ws, json.dumps({"type": "backlog_end", "count": len(backlog)})):
                    return
                live[user].append(ws)
                joined = True
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = await asyncio.to_thread(store.ack, user, ids)
                await ws.send_json({"type": "acked", "count": count})
        except WebSocketDisconnect:
            pass
        except (OSError, RuntimeError):
            pass
        finally:
            if joined and ws in live[user]:
                live[user].remove(ws)
            if not live[user]:
                live.pop(user, None)

    return app
