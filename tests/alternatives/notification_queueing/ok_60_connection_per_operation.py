"""CORRECT variant: a fresh SQLite connection per Store operation.

Each operation opens its own connection in autocommit mode, runs one explicit
``BEGIN IMMEDIATE ... COMMIT`` (ROLLBACK on error) and closes it, so no transaction
is ever left open on the file. Different SQL schema from the reference (``queue``
with columns nid/owner/n/created/expires, plus a ``counters`` table for the last
seq), the cap done in Python (delete the lowest-seq rows beyond max_per_user),
uuid4 ids with dashes. Validation without regex, push via asyncio.wait. Every
stated rule kept: seq from the counter table (never reused after acks/restarts),
TTL on the stored expiry, per-user cap dropping the oldest, exact id matching.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import json
import re
import sqlite3
import time
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")  # kept for the stub's shape; names are checked below
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0

_FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _name_ok(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 32 and all(
        c in NAME_CHARS for c in value)


def _text_ok(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if not _name_ok(data.get("user")):
        raise ValueError("bad 'user'")
    if "title" not in data or not _text_ok(data["title"]):
        raise ValueError("'title' is required text")
    title = data["title"]
    if len(title) > MAX_TITLE or title.isspace() or title == "":
        raise ValueError("'title' must be 1-200 characters, not all whitespace")
    body = data["body"] if "body" in data else ""
    if not _text_ok(body) or len(body) > MAX_BODY:
        raise ValueError("'body' must be text of at most 2000 characters")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("'level' must be low, normal or high")
    return {"user": data["user"], "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    if message.get("text") is None:
        raise ValueError("binary frame")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not an object")
    if not (isinstance(data.get("type"), str) and data["type"] == "ack"):
        raise ValueError("'type' must be 'ack'")
    ids = data.get("ids")
    if not isinstance(ids, list):
        raise ValueError("'ids' must be a list")
    for i in ids:
        if not _text_ok(i):
            raise ValueError("every id must be a string")
    return list(ids)


class Store:
    """A new sqlite3 connection for every operation (opened, used in one explicit
    BEGIN IMMEDIATE ... COMMIT, closed), autocommit mode otherwise; a ``counters``
    table holds each user's last seq; rows are deleted on ack, expiry and the cap."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with self._tx() as db:
            db.execute("CREATE TABLE IF NOT EXISTS queue (nid TEXT PRIMARY KEY, "
                       "owner TEXT NOT NULL, n INTEGER NOT NULL, title TEXT NOT NULL, "
                       "body TEXT NOT NULL, level TEXT NOT NULL, created REAL NOT NULL, "
                       "expires REAL NOT NULL)")
            db.execute("CREATE INDEX IF NOT EXISTS queue_owner ON queue (owner, n)")
            db.execute("CREATE TABLE IF NOT EXISTS counters (owner TEXT PRIMARY KEY, "
                       "last INTEGER NOT NULL)")

    @contextlib.contextmanager
    def _tx(self):
        db = sqlite3.connect(self.path, isolation_level=None, timeout=10)
        try:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        finally:
            db.close()

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM queue WHERE expires <= ?", (now,))
            row = db.execute("SELECT last FROM counters WHERE owner = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO counters (owner, last) VALUES (?, ?)", (user, seq))
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            db.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (note["id"], user, seq, note["title"], note["body"], note["level"],
                        now, note["expires_at"]))
            rows = db.execute("SELECT nid FROM queue WHERE owner = ? ORDER BY n",
                              (user,)).fetchall()
            extra = len(rows) - self.max_per_user
            for (nid,) in rows[:max(extra, 0)]:
                db.execute("DELETE FROM queue WHERE nid = ?", (nid,))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._tx() as db:
            db.execute("DELETE FROM queue WHERE expires <= ?", (time.time(),))
            rows = db.execute("SELECT nid, n, owner, title, body, level, created, expires "
                              "FROM queue WHERE owner = ? ORDER BY n", (user,)).fetchall()
        return [dict(zip(_FIELDS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        gone = 0
        with self._tx() as db:
            for nid in set(ids):
                gone += db.execute("DELETE FROM queue WHERE nid = ? AND owner = ? "
                                   "AND expires > ?", (nid, user, now)).rowcount
        return gone


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
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    counted = {"n": 0}

    def lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, note: dict[str, Any]) -> int:
        targets = list(live.get(user, []))
        if not targets:
            return 0
        text = json.dumps({"type": "notification", **note})
        tasks = [asyncio.ensure_future(asyncio.wait_for(ws.send_text(text), send_timeout))
                 for ws in targets]
        await asyncio.wait(tasks)
        reached = 0
        for ws, task in zip(targets, tasks):
            if task.cancelled() or task.exception() is not None:
                if ws in live.get(user, []):
                    live[user].remove(ws)
            else:
                reached += 1
        return reached

    @events.on("notification.created", priority=EventPriority.HIGH)
    def check(n: dict[str, Any]) -> None:
        n.update(validate(n))

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def keep_and_send(n: dict[str, Any]) -> None:
        async with lock(n["user"]):
            note = store.add(n["user"], n)
            n["id"], n["seq"] = note["id"], note["seq"]
            n["delivered"] = await push(n["user"], note)

    @events.on("notification.created", priority=EventPriority.LOW)
    def audit(n: dict[str, Any]) -> None:
        counted["n"] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "body is not UTF-8 JSON"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", notice)
        if "id" not in notice:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not _name_ok(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with lock(user):
                notes = store.pending(user)
                for note in notes:
                    await asyncio.wait_for(
                        ws.send_text(json.dumps({"type": "notification", **note})), send_timeout)
                await asyncio.wait_for(ws.send_text(json.dumps(
                    {"type": "backlog_end", "count": len(notes)})), send_timeout)
                live.setdefault(user, []).append(ws)
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(msg)
                except ValueError as exc:
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    continue
                n = store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": n}))
        except (WebSocketDisconnect, TimeoutError):
            pass
        finally:
            if ws in live.get(user, []):
                live[user].remove(ws)

    return app
