"""Correct solution, style: no asyncio locks at all; a tab catches up, then joins in one synchronous step.

Why it is correct: the event loop runs one coroutine at a time, and sqlite3 calls
are synchronous, so "commit a notification and pick the tabs to push it to" and
"find nothing newer to send and join the user's tabs" are each atomic. A tab
reads its backlog in rounds (only seq numbers above the last one it sent) until
a round is empty; in that same step it joins the user's tabs as "joining". A
notification committed before that step is in its backlog (and does not count in
delivered); one committed after it is buffered for the tab and sent after
backlog_end, never before it and never twice. Once backlog_end is out and the
buffer is empty, the tab becomes live, and later pushes go to it directly, with
send_timeout each, concurrently; a tab whose push fails or times out is removed
from the live tabs and not counted. The store keeps one row per unacknowledged
notification, a counter table for seq (so seq survives acks and restarts), purges
expired rows (expires_at not after now), and caps each user by rank. Every
notification is committed before any push. Validation runs in the route before
the emit (nothing refused is stored or uses a seq), and again as the HIGH
listener that fills in defaults; MEDIUM stores and pushes; LOW audits.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
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

KEYS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8", "strict")
        return True
    except UnicodeEncodeError:
        return False


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with defaults, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if type(user) is not str or not NAME.fullmatch(user):
        raise ValueError("user: 1-32 characters of A-Z, a-z, 0-9, underscore, dot, dash")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if type(title) is not str:
        raise ValueError("title must be text")
    if len(title) < 1 or len(title) > MAX_TITLE or not title.strip():
        raise ValueError(f"title: 1-{MAX_TITLE} characters, not only whitespace")
    if not _utf8_ok(title):
        raise ValueError("title holds a lone surrogate")
    body = ""
    if "body" in data:
        body = data["body"]
        if type(body) is not str or len(body) > MAX_BODY:
            raise ValueError(f"body: text of at most {MAX_BODY} characters")
        if not _utf8_ok(body):
            raise ValueError("body holds a lone surrogate")
    level = "normal"
    if "level" in data:
        level = data["level"]
        if type(level) is not str or level not in LEVELS:
            raise ValueError('level: exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError (and never any other exception)."""
    try:
        return _parse_ack(message)
    except ValueError:
        raise
    except Exception as exc:  # RecursionError from json.loads, or anything unexpected
        raise ValueError(f"unreadable frame: {type(exc).__name__}") from None


def _parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not understood")
    frame = json.loads(text)
    if not isinstance(frame, dict):
        raise ValueError("a frame is a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('the only frame a client sends is {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    if not all(isinstance(i, str) and _utf8_ok(i) for i in ids):
        raise ValueError("ids must be strings")
    return ids


class Store:
    """The offline queue in SQLite."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS pending_notifications ("
                " id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,"
                " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL, UNIQUE (user, seq))")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS sequence_numbers (user TEXT PRIMARY KEY,"
                " last_seq INTEGER NOT NULL)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created_at = time.time()
        with self.db:  # one transaction: counter, row, purge and cap commit together
            self.db.execute(
                "INSERT INTO sequence_numbers (user, last_seq) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last_seq = last_seq + 1", (user,))
            seq = self.db.execute("SELECT last_seq FROM sequence_numbers WHERE user = ?",
                                  (user,)).fetchone()[0]
            note = dict(zip(KEYS, (uuid.uuid4().hex, seq, user, fields["title"],
                                   fields.get("body", ""), fields.get("level", "normal"),
                                   created_at, created_at + self.ttl_seconds)))
            self.db.execute(
                "INSERT INTO pending_notifications (id, seq, user, title, body, level,"
                " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[k] for k in KEYS))
            self.db.execute("DELETE FROM pending_notifications WHERE expires_at <= ?",
                            (created_at,))
            self.db.execute(
                "DELETE FROM pending_notifications WHERE user = ? AND seq IN ("
                " SELECT seq FROM pending_notifications WHERE user = ?"
                " ORDER BY seq DESC LIMIT -1 OFFSET ?)", (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM pending_notifications WHERE expires_at <= ?", (now,))
            rows = self.db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM pending_notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [dict(zip(KEYS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self.db:
            cursor = self.db.executemany(
                "DELETE FROM pending_notifications WHERE user = ? AND id = ? AND expires_at > ?",
                [(user, note_id, now) for note_id in set(ids)])
            return max(cursor.rowcount, 0)


class _Tab:
    """One open WebSocket of a user: joining (buffering) until its backlog is out, then live."""

    __slots__ = ("ws", "live", "buffer")

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.live = False
        self.buffer: list[str] = []


def _frame(note: dict[str, Any]) -> str:
    return json.dumps({"type": "notification", **{k: note[k] for k in KEYS}})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The app: POST /notifications and the /notifications/{user} WebSocket."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs_of: dict[str, list[_Tab]] = {}
    audit = {"created": 0}

    def forget(user: str, tab: _Tab) -> None:
        tabs = tabs_of.get(user)
        if tabs and tab in tabs:
            tabs.remove(tab)
            if not tabs:
                del tabs_of[user]

    async def send(ws: WebSocket, text: str) -> None:
        await asyncio.wait_for(ws.send_text(text), send_timeout)

    async def push(user: str, tab: _Tab, text: str) -> bool:
        try:
            await send(tab.ws, text)
        except Exception:
            forget(user, tab)  # dead or stalled: never tried again
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        stored = store.add(user, note)  # committed; no await between this and the split below
        note.update(stored)
        text = _frame(stored)
        live = []
        for tab in tabs_of.get(user, []):
            if tab.live:
                live.append(tab)
            else:
                tab.buffer.append(text)  # still receiving its backlog: it gets it after backlog_end
        reached = await asyncio.gather(*(push(user, tab, text) for tab in live))
        note["delivered"] = sum(reached)

    def count(note: dict[str, Any]) -> None:
        audit["created"] += 1

    bus.on("notification.created", enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req, res):
        raw: bytes = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            return res.json({"error": f"the body is not JSON text in UTF-8 ({type(exc).__name__})"},
                            status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await bus.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": f"not stored: {result.errors[:1]}"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket):
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "user: 1-32 characters of A-Z, a-z, 0-9, _ . -"})
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        tab = _Tab(ws)
        try:
            sent_up_to, count_sent = 0, 0
            while True:
                fresh = [n for n in store.pending(user) if n["seq"] > sent_up_to]
                if not fresh:
                    tabs_of.setdefault(user, []).append(tab)  # same step as the empty read
                    break
                for note in fresh:
                    await send(ws, _frame(note))
                    sent_up_to = note["seq"]
                    count_sent += 1
            await send(ws, json.dumps({"type": "backlog_end", "count": count_sent}))
            while tab.buffer:
                await send(ws, tab.buffer.pop(0))
            tab.live = True
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
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the client went away (a normal disconnect is no error) or its sends fail
        finally:
            forget(user, tab)

    return app
