"""Bug: the HIGH listener leaves the validated fields in one slot on the hub and the MEDIUM listener reads that slot after waiting for the user's lock, so when two POSTs wait on the lock at once the first stores the second one's title, body and level.

Breaks: "a title or body is stored and delivered exactly as sent" ... while ann's tab holds her lock (its backlog is being sent), POSTs "first" and then "second" for ann arrive: both are stored, delivered and replayed with the title "second", and "first" is lost.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from typing import Any

import day25
from day25 import EventPriority
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped
FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is required")
    user = data["user"]
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    body = data.get("body", "")
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _surrogate(title) or _surrogate(body):
        raise ValueError("title and body must be text (no lone surrogates)")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("frames must be JSON text, not binary")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack" or not isinstance(frame.get("type"), str):
        raise ValueError('a frame must be an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_surrogate(i) for i in ids):
        raise ValueError("ids must be text (no lone surrogates)")
    return list(ids)


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path, self.ttl, self.cap = path, float(ttl_seconds), int(max_per_user)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS notes (
                id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS notes_user_seq ON notes(user, seq);
            CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
            """
        )

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {"id": uuid.uuid4().hex, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl}
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._purge(now)
            self.db.execute(
                "INSERT INTO counters(user, seq) VALUES (?, 1) "
                "ON CONFLICT(user) DO UPDATE SET seq = seq + 1", (user,))
            (note["seq"],) = self.db.execute(
                "SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            self.db.execute(
                "INSERT INTO notes VALUES (:id, :user, :seq, :title, :body, :level, "
                ":created_at, :expires_at)", note)
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.cap, 0)))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return {k: note[k] for k in FIELDS}

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._purge(now)
        rows = self.db.execute(
            f"SELECT {', '.join(FIELDS)} FROM notes WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now)).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        now, count = time.time(), 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                count += self.db.execute(
                    f"DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk)).rowcount
            self._purge(now)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return count


def _frame(note: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notification", **{k: note[k] for k in FIELDS}}


class Hub:
    """Everything one app shares between its requests and connections."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app, self.store, self.send_timeout = app, store, send_timeout
        self.locks: dict[str, asyncio.Lock] = {}
        self.live: dict[str, list[WebSocket]] = {}
        self.audited = 0
        self.accepted: dict[str, str] = {}

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
        except Exception:
            return False
        return True

    # -- listeners -------------------------------------------------------------
    def enrich(self, note: dict[str, Any]) -> None:
        self.accepted = validate(note)  # the MEDIUM listener stores this one

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            note.update(self.store.add(user, self.accepted))
            tabs = list(self.live.get(user, ()))
            frame = _frame(note)
            results = await asyncio.gather(*(self.send(ws, frame) for ws in tabs))
            dead = [ws for ws, ok in zip(tabs, results) if not ok]
            for ws in dead:
                if ws in self.live.get(user, ()):
                    self.live[user].remove(ws)
            note["delivered"] = sum(results)

    def audit(self, note: dict[str, Any]) -> None:
        self.audited += 1

    # -- routes ------------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
            note = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await self.app.events.emit("notification.created", note)
        if "seq" not in note:
            errors = getattr(result, "errors", ()) or ("not stored",)
            return res.json({"error": str(errors[0])}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with self.lock(user):
                sent = 0
                for note in self.store.pending(user):
                    if note["expires_at"] <= time.time():
                        continue
                    if not await self.send(ws, _frame(note)):
                        return
                    sent += 1
                if not await self.send(ws, {"type": "backlog_end", "count": sent}):
                    return
                self.live.setdefault(user, []).append(ws)
                joined = True
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await self.app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except Exception:
            return  # the client left (or its socket broke): not an error of the protocol
        finally:
            if joined and ws in self.live.get(user, ()):
                self.live[user].remove(ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    bus = day25.install(app)
    hub = Hub(app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout)
    bus.on("notification.created", hub.enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", hub.store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", hub.audit, priority=EventPriority.LOW)
    app.post("/notifications")(hub.create)
    app.ws_route("/notifications/{user}")(hub.connect)
    app.hub = hub  # type: ignore[attr-defined]
    return app
