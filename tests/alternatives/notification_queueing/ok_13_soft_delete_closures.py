"""Style: closures in create_app, a soft-delete Store (rows keep an acked flag) and a Hub of dataclass tabs.

Correct because: validate runs in the route before the emit (422, nothing stored, no seq),
seq comes from a per-user counter table bumped in the same transaction as the insert,
pending and ack only see rows that are unacknowledged and unexpired (expires_at after now)
and belong to the user, the cap keeps the newest max_per_user unacknowledged rows by rank,
pushes happen after the commit under a per-user lock with one send_timeout per tab, and the
backlog is sent under the same lock before the tab joins the live ones.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
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


def _is_text(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _ . -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE or not title.strip():
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters, not only whitespace")
    if not _is_text(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if not _is_text(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be exactly low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text")
    if text is None:
        raise ValueError("frames must be text, not binary")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('a frame must be an object with "type": "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if not all(_is_text(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self._lock = threading.Lock()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
            " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
            " created_at REAL NOT NULL, expires_at REAL NOT NULL, acked INTEGER NOT NULL DEFAULT 0)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, n INTEGER NOT NULL)")

    def _tx(self, work):
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                out = work()
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return out

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            row = self.db.execute("SELECT n FROM seqs WHERE user = ?", (user,)).fetchone()
            seq = 1 if row is None else row[0] + 1
            self.db.execute("INSERT INTO seqs VALUES (?, ?) ON CONFLICT (user) DO UPDATE SET n = excluded.n",
                            (user, seq))
            now = time.time()
            note = {"id": f"{uuid.uuid4()}", "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl}
            self.db.execute("INSERT INTO inbox (id, seq, user, title, body, level, created_at, expires_at)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(note[c] for c in COLUMNS))
            self.db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
            self.db.execute(
                "DELETE FROM inbox WHERE user = ? AND acked = 0 AND seq NOT IN (SELECT seq FROM inbox"
                " WHERE user = ? AND acked = 0 ORDER BY seq DESC LIMIT ?)", (user, user, self.cap))
            return note
        return self._tx(work)

    def pending(self, user: str) -> list[dict[str, Any]]:
        def work() -> list[dict[str, Any]]:
            now = time.time()
            self.db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
            rows = self.db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM inbox WHERE user = ? AND acked = 0 AND expires_at > ?"
                " ORDER BY seq", (user, now)).fetchall()
            return [dict(zip(COLUMNS, row)) for row in rows]
        return self._tx(work)

    def ack(self, user: str, ids: list[str]) -> int:
        def work() -> int:
            now = time.time()
            total = 0
            for note_id in sorted(set(ids)):
                total += self.db.execute(
                    "UPDATE inbox SET acked = 1 WHERE user = ? AND id = ? AND acked = 0 AND expires_at > ?",
                    (user, note_id, now)).rowcount
            self.db.execute("DELETE FROM inbox WHERE acked = 1 AND user = ?", (user,))
            return total
        return self._tx(work)


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    user: str
    live: bool = False


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
    tabs: dict[str, list[Tab]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit: list[tuple[str, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send_one(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    async def push(user: str, frame: dict[str, Any]) -> int:
        live = [tab for tab in tabs.get(user, []) if tab.live]
        results = await asyncio.gather(*(send_one(tab.ws, frame) for tab in live))
        for tab, ok in zip(live, results):
            if not ok:
                tab.live = False
                tabs[user] = [t for t in tabs.get(user, []) if t is not tab]
        return sum(1 for ok in results if ok)

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_for(user):
            saved = store.add(user, note)
            delivered = await push(user, {"type": "notification", **saved})
        note.update(id=saved["id"], seq=saved["seq"], delivered=delivered)

    def audit_it(note: dict[str, Any]) -> None:
        audit.append((note["user"], note.get("delivered", 0)))

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit_it, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req, res):
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body must be JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", note)
        if not result.ok or "seq" not in note:
            return res.json({"error": "could not store the notification"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket):
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of A-Z, a-z, 0-9, _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        me = None
        try:
            async with lock_for(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                me = Tab(ws, user, live=True)
                tabs.setdefault(user, []).append(me)
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
            pass
        finally:
            if me is not None:
                me.live = False
                tabs[user] = [t for t in tabs.get(user, []) if t is not me]

    app.audit = audit
    return app
