"""Bug: Store.pending reads the backlog with a fixed ``LIMIT 100`` (the default cap), so a user allowed more than 100 queued notifications gets only the oldest 100 on connect.

Breaks: "On connect the server sends every stored, unacknowledged, unexpired notification of that user, in `seq` order ... then `{"type": "backlog_end", "count": K}`" ... with max_per_user=150 and 120 notifications posted while ann is offline, her tab receives only seq 1-100 and backlog_end count 100; seq 101-120 are never sent in that backlog.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import sqlite3
import threading
import time
import uuid
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

BACKLOG_QUERY = """
    SELECT id, seq, user, title, body, level, created_at, expires_at
    FROM notifications
    WHERE user = ? AND expires_at > ?
    ORDER BY seq
    LIMIT 100
"""


def _text_ok(value: str) -> bool:
    return not any("\ud800" <= c <= "\udfff" for c in value)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    problems = []
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        problems.append("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE or not title.strip():
        problems.append(f"title must be 1-{MAX_TITLE} characters, not only whitespace")
    elif not _text_ok(title):
        problems.append("title holds a lone surrogate")
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        problems.append(f"body must be text of at most {MAX_BODY} characters")
    elif not _text_ok(body):
        problems.append("body holds a lone surrogate")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        problems.append("level must be low, normal or high")
    if problems:
        raise ValueError("; ".join(problems))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message["text"]
        if text is None:
            raise KeyError("text")
    except KeyError:
        raise ValueError("binary frames are not supported") from None
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"bad JSON: {exc.__class__.__name__}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError("only ack frames are accepted")
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _text_ok(i) for i in ids):
        raise ValueError("ids must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.guard = threading.Lock()
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.conn.row_factory = sqlite3.Row
        self.conn.executescript("""
            CREATE TABLE IF NOT EXISTS notifications (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS by_user ON notifications (user, seq);
            CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
        """)

    def _txn(self, fn: Any, *args: Any) -> Any:
        with self.guard:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                result = fn(*args)
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            return result

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        return self._txn(self._add, user, fields)

    def _add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        self.conn.execute("INSERT INTO seqs (user, last) VALUES (?, 1) "
                          "ON CONFLICT (user) DO UPDATE SET last = last + 1", (user,))
        (seq,) = self.conn.execute("SELECT last FROM seqs WHERE user = ?", (user,)).fetchone()
        note = {"id": str(uuid.uuid4()), "seq": seq, "user": user, "title": fields["title"],
                "body": fields["body"], "level": fields["level"], "created_at": now,
                "expires_at": now + self.ttl}
        self.conn.execute("INSERT INTO notifications VALUES (:id, :seq, :user, :title, :body,"
                          " :level, :created_at, :expires_at)", note)
        self.conn.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
        self.conn.execute("DELETE FROM notifications WHERE user = ? AND id IN (SELECT id FROM"
                          " notifications WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                          (user, user, self.cap))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        return self._txn(self._pending, user)

    def _pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self.conn.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
        return [dict(row) for row in self.conn.execute(BACKLOG_QUERY, (user, now))]

    def ack(self, user: str, ids: list[str]) -> int:
        return self._txn(self._ack, user, ids)

    def _ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        cur = self.conn.executemany(
            "DELETE FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
            [(i, user, now) for i in set(ids)])
        return max(cur.rowcount, 0)


# -- the app's parts, as plain functions over one ``state`` dict -------------------


def _lock(state: dict[str, Any], user: str) -> asyncio.Lock:
    return state["locks"].setdefault(user, asyncio.Lock())


async def _send(state: dict[str, Any], user: str, ws: WebSocket, frame: dict[str, Any]) -> bool:
    try:
        await asyncio.wait_for(ws.send_json(frame), state["send_timeout"])
    except Exception:
        state["live"].get(user, set()).discard(ws)
        return False
    return True


def _defaults(state: dict[str, Any], note: dict[str, Any]) -> None:
    note.setdefault("body", "")
    note.setdefault("level", "normal")


async def _store_and_push(state: dict[str, Any], note: dict[str, Any]) -> None:
    user = note["user"]
    async with _lock(state, user):
        stored = state["store"].add(user, {k: note[k] for k in ("title", "body", "level")})
        note.update(stored)
        frame = {"type": "notification", **stored}
        tabs = list(state["live"].get(user, ()))
        results = await asyncio.gather(*(_send(state, user, ws, frame) for ws in tabs))
        note["delivered"] = results.count(True)


def _audit(state: dict[str, Any], note: dict[str, Any]) -> None:
    state["created"] += 1


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``, ``POST /notifications``
    and the ``/notifications/{user}`` WebSocket route."""
    app = NexiosApp()
    events = day25.install(app)
    state: dict[str, Any] = {
        "store": Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
        "send_timeout": send_timeout, "live": {}, "locks": {}, "created": 0,
    }
    events.on("notification.created", functools.partial(_defaults, state),
              priority=EventPriority.HIGH)
    events.on("notification.created", functools.partial(_store_and_push, state),
              priority=EventPriority.MEDIUM)
    events.on("notification.created", functools.partial(_audit, state),
              priority=EventPriority.LOW)

    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
            note: dict[str, Any] = validate(data)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def receive(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with _lock(state, user):
                backlog = state["store"].pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                state["live"].setdefault(user, set()).add(ws)
            async for message in _frames(ws):
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": state["store"].ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            state["live"].get(user, set()).discard(ws)

    app.post("/notifications")(create)
    app.ws_route("/notifications/{user}")(receive)
    return app


async def _frames(ws: WebSocket) -> Any:
    """The received messages of ``ws`` until the client disconnects."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        yield message
