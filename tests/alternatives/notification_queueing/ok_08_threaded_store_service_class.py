"""Correct solution, style: a service class whose methods are the listeners and routes; the
store opens a short-lived sqlite3 connection per operation and the app runs it in worker
threads (asyncio.to_thread), so SQLite never blocks the event loop.

Why it is correct: validation happens only in the HIGH listener, which raises a
Refused error (a ValueError) and marks the payload; the MEDIUM listener skips a
marked payload, so a refused notification is never stored and uses no seq, and
the route answers 422 from the emit's error. Each store operation is one
transaction (BEGIN IMMEDIATE for writes, so two threads can never hand out the
same seq); seq comes from a counter table, so it survives acks and restarts. An
asyncio lock per user covers "commit, then push to the live tabs" and "backlog,
backlog_end, then join the live tabs": nothing arrives twice or before
backlog_end, and a notification is committed before any push. Pushes to the live
tabs run concurrently, each bounded by send_timeout; a failed or late one drops
that tab and does not count in delivered. Expired means expires_at not after now
(such rows are never returned, never acked, and purged); the cap keeps the
newest max_per_user rows by rank. Bad frames get a bad_frame error on their own
connection and a ws.error event with exactly user and error; a disconnect is
silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
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


class Refused(ValueError):
    """A notification that breaks a rule of the table."""


def _no_surrogates(text: str) -> bool:
    return not any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with its defaults, or ValueError (a Refused)."""
    if not isinstance(data, dict):
        raise Refused("the notification must be a JSON object")
    problems: list[str] = []
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        problems.append("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    title = data.get("title")
    if not isinstance(title, str):
        problems.append("title is required and must be a string")
    elif not (1 <= len(title) <= MAX_TITLE) or title.isspace() or not _no_surrogates(title):
        problems.append(f"title must be 1-{MAX_TITLE} characters of text, not only whitespace")
    body = data.get("body", "")
    if not (isinstance(body, str) and len(body) <= MAX_BODY and _no_surrogates(body)):
        problems.append(f"body must be a string of at most {MAX_BODY} characters")
    level = data.get("level", "normal")
    if not (isinstance(level, str) and level in LEVELS):
        problems.append('level must be exactly "low", "normal" or "high"')
    if problems:
        raise Refused("; ".join(problems))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one ASGI receive message holding an ack frame, or ValueError."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("frames must be JSON text, not binary")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deeply to parse") from None
    except ValueError:
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if not all(_no_surrogates(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


_COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The queue in SQLite: one connection per operation, one transaction each."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY, seq INTEGER,"
                       " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL,"
                       " expires_at REAL)")
            db.execute("CREATE INDEX IF NOT EXISTS inbox_user_seq ON inbox (user, seq)")
            db.execute("CREATE TABLE IF NOT EXISTS issued (user TEXT PRIMARY KEY, seq INTEGER)")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
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
        with self._transaction() as db:
            row = db.execute("SELECT seq FROM issued WHERE user = ?", (user,)).fetchone()
            seq = 1 if row is None else row[0] + 1
            db.execute("INSERT OR REPLACE INTO issued (user, seq) VALUES (?, ?)", (user, seq))
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            db.execute("INSERT INTO inbox VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [note[c] for c in _COLUMNS])
            db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
            kept = db.execute("SELECT seq FROM inbox WHERE user = ? ORDER BY seq DESC",
                              (user,)).fetchall()
            for (old_seq,) in kept[self.max_per_user:]:
                db.execute("DELETE FROM inbox WHERE user = ? AND seq = ?", (user, old_seq))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT id, seq, user, title, body, level, created_at, expires_at"
                              " FROM inbox WHERE user = ? AND expires_at > ? ORDER BY seq",
                              (user, now)).fetchall()
        return [dict(zip(_COLUMNS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        done = 0
        with self._transaction() as db:
            for note_id in dict.fromkeys(ids):
                done += db.execute("DELETE FROM inbox WHERE user = ? AND id = ? AND expires_at > ?",
                                   (user, note_id, now)).rowcount
        return done


class NotificationService:
    """The listeners of notification.created and the two routes, sharing the live tabs."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.live: dict[str, set[WebSocket]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.audit_trail: list[tuple[str, int, int]] = []
        self.events.on("notification.created", self.check, priority=EventPriority.HIGH)
        self.events.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self.audit, priority=EventPriority.LOW)

    def _lock(self, user: str) -> asyncio.Lock:
        return self._locks.setdefault(user, asyncio.Lock())

    # HIGH
    def check(self, note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except Refused:
            note["_refused"] = True
            raise
        for extra in [k for k in note if k not in accepted]:
            del note[extra]
        note.update(accepted)

    # MEDIUM
    async def store_and_push(self, note: dict[str, Any]) -> None:
        if note.get("_refused"):
            return
        user = note["user"]
        async with self._lock(user):
            stored = await asyncio.to_thread(self.store.add, user, note)  # committed here
            note.update(stored)
            text = json.dumps({"type": "notification", **stored})
            tabs = list(self.live.get(user, ()))
            outcomes = await asyncio.gather(*(self._push(user, ws, text) for ws in tabs))
            note["delivered"] = sum(outcomes)

    # LOW
    def audit(self, note: dict[str, Any]) -> None:
        if not note.get("_refused"):
            self.audit_trail.append((note["user"], note.get("seq", 0), note.get("delivered", 0)))

    async def _push(self, user: str, ws: WebSocket, text: str) -> int:
        try:
            await asyncio.wait_for(ws.send_text(text), self.send_timeout)
        except Exception:
            self.live.get(user, set()).discard(ws)
            return 0
        return 1

    async def post(self, req: Any, res: Any) -> Any:
        try:
            payload = json.loads((await req.body).decode("utf-8"))
        except UnicodeDecodeError:
            return res.json({"error": "the body is not UTF-8"}, status_code=422)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError:
            return res.json({"error": "the body is not valid JSON"}, status_code=422)
        if not isinstance(payload, dict):
            return res.json({"error": "the notification must be a JSON object"}, status_code=422)
        note = dict(payload)
        result = await self.events.emit("notification.created", note)
        if note.get("_refused"):
            reason = next((str(e) for e in result.errors if isinstance(e, Refused)), "refused")
            return res.json({"error": reason}, status_code=422)
        if "seq" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def socket(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            with contextlib.suppress(Exception):
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "the user name must be 1-32 characters of"
                                               " A-Z, a-z, 0-9, _, . or -"})
                await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with self._lock(user):
                backlog = await asyncio.to_thread(self.store.pending, user)
                for note in backlog:
                    await asyncio.wait_for(ws.send_text(json.dumps({"type": "notification", **note})),
                                           self.send_timeout)
                await asyncio.wait_for(
                    ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)})),
                    self.send_timeout)
                self.live.setdefault(user, set()).add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = await asyncio.to_thread(self.store.ack, user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
            return  # the client left: a goodbye, not an error
        finally:
            self.live.get(user, set()).discard(ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The app: a NotificationService wired to its two routes."""
    app = NexiosApp()
    service = NotificationService(
        app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout)
    app.post("/notifications")(service.post)
    app.ws_route("/notifications/{user}")(service.socket)
    return app
