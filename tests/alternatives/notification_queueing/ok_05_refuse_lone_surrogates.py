"""OK since the text now decides it (issue 14): a lone surrogate may be refused (422), and an ack of such an id may count 0.
Written when it was open, as AMBIGUOUS: validate refuses a title or body that is
not valid Unicode text (a lone surrogate from a JSON escape such as
``"\\ud800"``) with 422, "because it cannot be stored as UTF-8 text". The ok_
variants accept it (201) and store it escaped.

The text: "`title` | string of 1-200 characters, not only whitespace"; "Invalid
JSON [...]: **422**". A JSON string with a lone surrogate escape is valid JSON
grammar (RFC 8259 says its behaviour is unpredictable; I-JSON, RFC 7493, forbids
it); the text does not say which.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
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


def _valid_name(value: object) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not _valid_name(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE or not title.strip():
        raise ValueError(f"title must be a string of 1-{MAX_TITLE} characters, not only whitespace")
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    for name, value in (("title", title), ("body", body)):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{name} is not valid Unicode text (a lone surrogate)") from None
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    return list(ids)


SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    payload TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS by_user ON notifications (user, seq);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _tx(self):
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @staticmethod
    def _row(row: tuple[Any, ...]) -> dict[str, Any]:
        nid, user, seq, payload, created, expires = row
        fields = json.loads(payload)
        return {"id": nid, "seq": seq, "user": user, "title": fields["title"],
                "body": fields["body"], "level": fields["level"],
                "created_at": created, "expires_at": expires}

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        payload = json.dumps({"title": fields["title"], "body": fields.get("body", ""),
                              "level": fields.get("level", "normal")})  # ASCII: any str fits
        nid = uuid.uuid4().hex
        with self._tx() as db:
            db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            db.execute("INSERT INTO last_seq (user, seq) VALUES (?, 1) "
                       "ON CONFLICT (user) DO UPDATE SET seq = seq + 1", (user,))
            (seq,) = db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?)",
                       (nid, user, seq, payload, now, now + self.ttl_seconds))
            db.execute("DELETE FROM notifications WHERE user = ? AND seq NOT IN "
                       "(SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                       (user, user, self.max_per_user))
        return self._row((nid, user, seq, payload, now, now + self.ttl_seconds))

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT id, user, seq, payload, created_at, expires_at "
                              "FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                              (user, now)).fetchall()
        return [self._row(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self._tx() as db:
            for nid in set(ids):
                try:
                    cur = db.execute("DELETE FROM notifications WHERE user = ? AND id = ? "
                                     "AND expires_at > ?", (user, nid, now))
                except UnicodeEncodeError:  # an id no row can have (a lone surrogate)
                    continue
                count += cur.rowcount
        return count


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
    tabs: dict[str, set[Any]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit = {"created": 0}

    def lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, frame: dict[str, Any]) -> int:
        live = list(tabs.get(user, ()))
        text = json.dumps(frame)
        outcomes = await asyncio.gather(
            *(asyncio.wait_for(t.send_text(text), send_timeout) for t in live),
            return_exceptions=True)
        delivered = 0
        for tab, outcome in zip(live, outcomes):
            if isinstance(outcome, BaseException):
                tabs.get(user, set()).discard(tab)  # dropped from the live tabs
            else:
                delivered += 1
        return delivered

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock(user):
            saved = store.add(user, note)
            note["id"], note["seq"] = saved["id"], saved["seq"]
            note["delivered"] = await push(user, {"type": "notification", **saved})

    def count(note: dict[str, Any]) -> None:
        audit["created"] += 1

    bus.on("notification.created", enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req, res):
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not valid JSON (UTF-8)"}, status_code=422)
        try:
            note = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await bus.emit("notification.created", note)
        if result.errors or "id" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def receive(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not _valid_name(user):
            with contextlib.suppress(Exception):
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
                await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await asyncio.wait_for(
                        ws.send_text(json.dumps({"type": "notification", **note})), send_timeout)
                await asyncio.wait_for(
                    ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)})),
                    send_timeout)
                tabs.setdefault(user, set()).add(ws)
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
        except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
            pass  # gone, or dropped: not an error
        finally:
            live = tabs.get(user)
            if live is not None:
                live.discard(ws)
                if not live:
                    del tabs[user]

    return app
