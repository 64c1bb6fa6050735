"""Style: the queue's rules live in SQL (an UPSERT ... RETURNING counter for seq, a per-connection TEMP trigger for the cap, json_each for acks) and the app is a service class whose bound methods are the listeners and routes, with per-user locks in a WeakValueDictionary and pushes as tasks awaited with asyncio.wait.

Follows: "`user` | 1-32 characters of `[A-Za-z0-9_.-]`, nothing else" (NAME.fullmatch on a str, in validate and at connect); "`title` | text of 1-200 characters, not only whitespace", "`body` | text of at most 2000 characters", "`level` | exactly ..." and "A default is for a **missing** field only" (defaults only for absent keys; present values are type- and range-checked as given); "Invalid JSON, not an object, or a bad field: **422** ... Never a 500" (strict UTF-8 decode and json.loads, ValueError and RecursionError both caught, before the emit); "**HIGH** validate/enrich (defaults), **MEDIUM** store and push to every open tab of the user, **LOW** audit" (Service.enrich, Service.deliver, Service.audit registered once in __init__); "`seq` increases by one per user and is never reused, not even after acknowledgements or a restart" (the counters row is bumped with INSERT ... ON CONFLICT DO UPDATE ... RETURNING in the same transaction as the insert, and is never deleted); "when a new one would exceed the cap, the **oldest (lowest seq) is dropped**" (the TEMP trigger after each insert deletes the user's rows past the newest max_per_user); "it is expired once `expires_at <= time.time()`" (reads and acks require expires_at > now; expired rows are purged); "ids of **another user's** notifications, ids acknowledged before and ids that expired ... count 0" and "an id given twice counts once" (one DELETE restricted to user and unexpired rows, ids matched through json_each, rowcount counts rows); "committed to SQLite before it is pushed" (Store.add commits, then Service.deliver pushes); "Backlog first ... then `backlog_end` ... Then live" and "a tab still receiving its backlog ... does not count" (backlog and join under the user's lock, which deliver also holds); "drops that tab from the live ones: no later push tries it" (asyncio.wait with send_timeout: a task not done is cancelled and its tab removed, a task that raised too); "A malformed frame ... `bad_frame` ... `ws.error` with exactly `{"user": U, "error": ...}` ... the connection **stays open**" (Service.on_frame); "A normal disconnect is not an error" (disconnect ends the loop silently, also during the backlog).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
import weakref
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


def _is_text(value: str) -> bool:
    """False for a string holding a lone surrogate: it has no UTF-8 form."""
    return not re.search("[\ud800-\udfff]", value)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, not {type(data).__name__}")
    missing = [key for key in ("user", "title") if key not in data]
    if missing:
        raise ValueError(f"missing: {', '.join(missing)}")
    user, title = data["user"], data["title"]
    body = data["body"] if "body" in data else ""
    level = data["level"] if "level" in data else "normal"
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-], nothing else")
    if not (isinstance(title, str) and 1 <= len(title) <= MAX_TITLE and not title.isspace()):
        raise ValueError(f"title: text of 1-{MAX_TITLE} characters, not only whitespace")
    if not (isinstance(body, str) and len(body) <= MAX_BODY):
        raise ValueError(f"body: text of at most {MAX_BODY} characters")
    if not (_is_text(title) and _is_text(body)):
        raise ValueError("title and body must not hold lone surrogates")
    if not (isinstance(level, str) and level in LEVELS):
        raise ValueError("level: exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if type(text) is not str:
        raise ValueError("a frame must be JSON text, not binary")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON ({type(exc).__name__})") from None
    if type(frame) is not dict or frame.get("type") != "ack":
        raise ValueError('a frame must be an object with "type": "ack"')
    ids = frame.get("ids")
    if type(ids) is not list or not all(type(i) is str and _is_text(i) for i in ids):
        raise ValueError('"ids" must be a list of strings')
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    The rules are SQL: the per-user counter is bumped by an UPSERT in the insert's
    transaction, and a TEMP trigger (this connection's own, so each Store applies its
    own ``max_per_user``) drops the oldest rows after every insert.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max(int(max_per_user), 0)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(f"""
            CREATE TABLE IF NOT EXISTS notification (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS notification_user_seq ON notification (user, seq);
            CREATE TABLE IF NOT EXISTS counter (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
            CREATE TEMP TRIGGER IF NOT EXISTS keep_newest AFTER INSERT ON main.notification
            BEGIN
                DELETE FROM notification WHERE user = NEW.user AND seq IN (
                    SELECT seq FROM notification WHERE user = NEW.user
                    ORDER BY seq DESC LIMIT -1 OFFSET {self.max_per_user});
            END;
        """)

    def _write(self, sql: str, *params: Any) -> sqlite3.Cursor:
        return self._db.execute(sql, params)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                self._write("DELETE FROM notification WHERE expires_at <= ?", now)
                (seq,) = self._write(
                    "INSERT INTO counter (user, last) VALUES (?, 1) ON CONFLICT (user)"
                    " DO UPDATE SET last = last + 1 RETURNING last", user).fetchone()
                note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                        "title": fields["title"], "body": fields["body"],
                        "level": fields["level"], "created_at": now,
                        "expires_at": now + self.ttl_seconds}
                self._db.execute(
                    "INSERT INTO notification (id, seq, user, title, body, level, created_at,"
                    " expires_at) VALUES (:id, :seq, :user, :title, :body, :level,"
                    " :created_at, :expires_at)", note)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._lock:
            now = time.time()
            self._write("DELETE FROM notification WHERE expires_at <= ?", now)
            rows = self._write(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM notification WHERE user = ? AND expires_at > ? ORDER BY seq",
                user, now).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        if not ids:
            return 0
        with self._lock:
            cursor = self._write(
                "DELETE FROM notification WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT value FROM json_each(?))",
                user, time.time(), json.dumps(ids))
            return cursor.rowcount


class Service:
    """The app's behaviour: listeners, routes and the live tabs of every user."""

    def __init__(self, store: Store, send_timeout: float) -> None:
        self.store = store
        self.send_timeout = send_timeout
        self.app = NexiosApp()
        self.events = day25.install(self.app)
        self.live: dict[str, set[WebSocket]] = {}
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.audit_trail: list[dict[str, Any]] = []
        self.events.on("notification.created", self.enrich, priority=EventPriority.HIGH)
        self.events.on("notification.created", self.deliver, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self.audit, priority=EventPriority.LOW)
        self.app.post("/notifications")(self.create)
        self.app.ws_route("/notifications/{user}")(self.connect)

    def lock(self, user: str) -> asyncio.Lock:
        """The user's lock; it lives as long as someone holds or waits for it."""
        lock = self._locks.get(user)
        if lock is None:
            lock = self._locks[user] = asyncio.Lock()
        return lock

    # -- listeners of notification.created ----------------------------------------
    def enrich(self, note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def deliver(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, {k: note[k] for k in ("title", "body", "level")})
            note.update(stored)
            note["delivered"] = await self.push(user, {"type": "notification", **stored})

    def audit(self, note: dict[str, Any]) -> None:
        self.audit_trail.append({k: note[k] for k in ("id", "user", "level", "delivered")})

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        tabs = list(self.live.get(user, ()))
        if not tabs:
            return 0
        sends = {asyncio.ensure_future(ws.send_json(frame)): ws for ws in tabs}
        done, stalled = await asyncio.wait(sends, timeout=self.send_timeout)
        for task in stalled:
            task.cancel()
        reached = 0
        for task, ws in sends.items():
            if task in done and not task.cancelled() and task.exception() is None:
                reached += 1
            else:
                self.live.get(user, set()).discard(ws)
        return reached

    # -- routes ---------------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
            note: dict[str, Any] = validate(data)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await self.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user: 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                self.live.setdefault(user, set()).add(ws)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                await self.on_frame(user, ws, message)
        except Exception:
            pass  # the client went away (also mid-backlog): a normal disconnect
        finally:
            self.live.get(user, set()).discard(ws)

    async def on_frame(self, user: str, ws: WebSocket, message: dict[str, Any]) -> None:
        try:
            ids = parse_ack(message)
        except ValueError as exc:
            await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
            await self.events.emit("ws.error", {"user": user, "error": str(exc)})
            return
        await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``, ``POST /notifications``
    and the ``/notifications/{user}`` WebSocket route."""
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    return Service(store, send_timeout).app
