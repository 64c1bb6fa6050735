"""Style: everything wired with closures inside create_app, validation done only in the HIGH listener (the route answers 422 from what that listener recorded), a Store using sqlite3.Row rows and executemany, and live tabs kept per user in a dict keyed by a connection number.

Why it is correct: the HIGH listener replaces the payload with the validated fields (defaults filled, other fields dropped) or marks it rejected without raising, so the MEDIUM listener skips a rejected notification and nothing is stored and no seq is used; the seq counter is its own table bumped in the same transaction as the insert; expiry is expires_at compared to now (now or past is expired) both when reading and when acking; the cap keeps the newest max_per_user rows per user by rank; an asyncio.Lock per user makes store-then-push and backlog-then-join atomic; each push to a tab has its own send_timeout and a failed or slow tab is dropped before the next; malformed frames get the bad_frame error and a ws.error event and the loop goes on; any exception from a client that has gone ends the handler quietly.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sqlite3
import time
import uuid
from typing import Any

from nexios import NexiosApp

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0

_MISSING = object()


def _text_ok(value: str) -> bool:
    return not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    user = data.get("user", _MISSING)
    if user is _MISSING:
        raise ValueError("user is required")
    if type(user) is not str or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters from A-Z a-z 0-9 _ . -")
    title = data.get("title", _MISSING)
    if title is _MISSING:
        raise ValueError("title is required")
    if type(title) is not str:
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError("title must be 1-200 characters long")
    if title.isspace():
        raise ValueError("title must not be blank")
    if not _text_ok(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", _MISSING)
    if body is _MISSING:
        body = ""
    elif type(body) is not str or len(body) > MAX_BODY:
        raise ValueError("body must be a string of at most 2000 characters")
    elif not _text_ok(body):
        raise ValueError("body holds a lone surrogate")
    level = data.get("level", _MISSING)
    if level is _MISSING:
        level = "normal"
    elif type(level) is not str or level not in LEVELS:
        raise ValueError('level must be exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    if not isinstance(message, dict):
        raise ValueError("not a message")
    text = message.get("text")
    if text is None or type(text) is not str:
        raise ValueError("binary frame: send the ack as JSON text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError, MemoryError):
        raise ValueError("frame is not valid JSON") from None
    if type(frame) is not dict:
        raise ValueError("frame must be a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('frame type must be exactly "ack"')
    ids = frame.get("ids", _MISSING)
    if type(ids) is not list:
        raise ValueError("ids must be a list")
    if not all(type(i) is str and _text_ok(i) for i in ids):
        raise ValueError("ids must hold strings only")
    return ids


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self._ttl = ttl_seconds
        self._cap = max_per_user
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS notes (
                id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL, UNIQUE (user, seq));
            CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
            """
        )
        self._db.commit()

    @staticmethod
    def _row(row: sqlite3.Row) -> dict[str, Any]:
        return {k: row[k] for k in ("id", "seq", "user", "title", "body", "level",
                                    "created_at", "expires_at")}

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._db:
            self._db.execute("INSERT OR IGNORE INTO seqs (user, last) VALUES (?, 0)", (user,))
            self._db.execute("UPDATE seqs SET last = last + 1 WHERE user = ?", (user,))
            seq = self._db.execute("SELECT last FROM seqs WHERE user = ?", (user,)).fetchone()[0]
            created = time.time()
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": created, "expires_at": created + self._ttl}
            self._db.execute(
                "INSERT INTO notes VALUES (:id, :user, :seq, :title, :body, :level,"
                " :created_at, :expires_at)", note)
            self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (created,))
            self._db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN (SELECT seq FROM notes"
                " WHERE user = ? ORDER BY seq DESC LIMIT ?)", (user, user, self._cap))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._db:
            self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            rows = self._db.execute(
                "SELECT * FROM notes WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [self._row(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self._db:
            cur = self._db.executemany(
                "DELETE FROM notes WHERE user = ? AND id = ? AND expires_at > ?",
                [(user, i, now) for i in set(ids)])
            return max(cur.rowcount, 0)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, dict[int, Any]] = {}
    locks: dict[str, asyncio.Lock] = {}
    numbers = itertools.count(1)
    seen = {"created": 0}

    def lock_for(user: str) -> asyncio.Lock:
        if user not in locks:
            locks[user] = asyncio.Lock()
        return locks[user]

    def check(note: dict[str, Any]) -> None:
        try:
            clean = validate(note)
        except ValueError as exc:
            note["rejected"] = str(exc)
            return
        note.clear()
        note.update(clean)

    async def keep_and_push(note: dict[str, Any]) -> None:
        if "rejected" in note:
            return
        user = note["user"]
        async with lock_for(user):
            saved = store.add(user, note)
            text = json.dumps({"type": "notification", **saved})
            reached = 0
            for number, ws in list(live.get(user, {}).items()):
                try:
                    await asyncio.wait_for(ws.send_text(text), send_timeout)
                except Exception:
                    live.get(user, {}).pop(number, None)
                else:
                    reached += 1
            note["reply"] = {"id": saved["id"], "seq": saved["seq"], "delivered": reached}

    def audit(note: dict[str, Any]) -> None:
        if "rejected" not in note:
            seen["created"] += 1

    bus.on("notification.created", check, priority=EventPriority.HIGH)
    bus.on("notification.created", keep_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "the body must be a JSON object"}, status_code=422)
        note = dict(data)
        await bus.emit("notification.created", note)
        if "rejected" in note:
            return res.json({"error": note["rejected"]}, status_code=422)
        if "reply" not in note:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json(note["reply"], status_code=201)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: Any) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "bad user name"}))
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        number = next(numbers)
        try:
            async with lock_for(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_text(json.dumps({"type": "notification", **note}))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
                live.setdefault(user, {})[number] = ws
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    reason = str(exc)
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": reason}))
                    await bus.emit("ws.error", {"user": user, "error": reason})
                else:
                    await ws.send_text(json.dumps({"type": "acked",
                                                   "count": store.ack(user, ids)}))
        except Exception:
            pass
        finally:
            live.get(user, {}).pop(number, None)

    return app
