"""Style: object-oriented: a Notifier class whose bound methods are the listeners, a Store on sqlite3.Row with UPDATE ... RETURNING and chunked IN (...) acks."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import Counter
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

ACK_CHUNK = 500  # ids per DELETE: well under SQLite's limit on bound variables


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _text(value: Any, name: str, shortest: int, longest: int) -> str:
    if not isinstance(value, str) or _has_surrogate(value):
        raise ValueError(f"{name!r} must be a string of text")
    if not shortest <= len(value) <= longest:
        raise ValueError(f"{name!r} must be {shortest}-{longest} characters long")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("'user' must be 1-32 characters of A-Z a-z 0-9 _ . -")
    title = _text(data.get("title"), "title", 1, MAX_TITLE)
    if title.isspace():
        raise ValueError("'title' must hold something besides whitespace")
    body = _text(data["body"], "body", 0, MAX_BODY) if "body" in data else ""
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("'level' must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("a binary frame: send the ack as JSON text")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deeply to be JSON") from None
    except ValueError as exc:
        raise ValueError(f"the frame is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if not isinstance(ids, list):
        raise ValueError("'ids' must be a list")
    for one in ids:
        if not isinstance(one, str) or _has_surrogate(one):
            raise ValueError("every id must be a string of text")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, "
                "user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
                "level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self.conn.execute("CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS counters "
                              "(user TEXT PRIMARY KEY, last INTEGER NOT NULL)")

    def _purge(self, now: float) -> None:
        self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with its id, seq and times."""
        now = time.time()
        with self.conn:
            self._purge(now)
            self.conn.execute("INSERT OR IGNORE INTO counters (user, last) VALUES (?, 0)", (user,))
            rows = self.conn.execute("UPDATE counters SET last = last + 1 WHERE user = ? "
                                     "RETURNING last", (user,)).fetchall()
            note = {"id": str(uuid.uuid4()), "seq": rows[0][0], "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.conn.execute("INSERT INTO queue (id, seq, user, title, body, level, created_at, "
                              "expires_at) VALUES (:id, :seq, :user, :title, :body, :level, "
                              ":created_at, :expires_at)", note)
            (count,) = self.conn.execute("SELECT COUNT(*) FROM queue WHERE user = ?",
                                         (user,)).fetchone()
            if count > self.max_per_user:
                self.conn.execute("DELETE FROM queue WHERE id IN (SELECT id FROM queue "
                                  "WHERE user = ? ORDER BY seq LIMIT ?)",
                                  (user, count - self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self.conn:
            self._purge(now)
        rows = self.conn.execute("SELECT id, seq, user, title, body, level, created_at, "
                                 "expires_at FROM queue WHERE user = ? AND expires_at > ? "
                                 "ORDER BY seq", (user, now)).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; how many distinct ones were this user's pending notifications."""
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        removed = 0
        with self.conn:
            for start in range(0, len(wanted), ACK_CHUNK):
                chunk = wanted[start:start + ACK_CHUNK]
                marks = ", ".join("?" * len(chunk))
                cur = self.conn.execute(f"DELETE FROM queue WHERE user = ? AND expires_at > ? "
                                        f"AND id IN ({marks})", (user, now, *chunk))
                removed += cur.rowcount
        return removed


class Notifier:
    """One app's live tabs, per-user locks and listeners, around its Store."""

    def __init__(self, store: Store, events: Any, send_timeout: float) -> None:
        self.store = store
        self.events = events
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audited: Counter[str] = Counter()

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    def leave(self, user: str, ws: WebSocket) -> None:
        live = self.tabs.get(user)
        if live is not None and ws in live:
            live.remove(ws)
            if not live:
                del self.tabs[user]

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        """Send one frame within send_timeout; False if it failed or took too long."""
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
        except Exception:
            return False
        return True

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        live = list(self.tabs.get(user, ()))
        async with asyncio.TaskGroup() as group:
            sends = [(ws, group.create_task(self.send(ws, frame))) for ws in live]
        delivered = 0
        for ws, task in sends:
            if task.result():
                delivered += 1
            else:
                self.leave(user, ws)
        return delivered

    # -- listeners of notification.created ------------------------------------------
    def enrich(self, notice: dict[str, Any]) -> None:
        notice.update(validate(notice))

    async def store_and_push(self, notice: dict[str, Any]) -> None:
        user = notice["user"]
        async with self.lock(user):
            note = self.store.add(user, notice)
            delivered = await self.push(user, {"type": "notification", **note})
        notice.update(id=note["id"], seq=note["seq"], delivered=delivered)

    def audit(self, notice: dict[str, Any]) -> None:
        self.audited[notice["user"]] += 1

    # -- routes -------------------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            return res.json({"error": "the body is nested too deeply"}, status_code=422)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError alike
            return res.json({"error": f"the body is not UTF-8 JSON: {exc}"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await self.events.emit("notification.created", notice)
        if "seq" not in notice:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user must be 1-32 characters of "
                                           "A-Z a-z 0-9 _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            if await self.join(ws, user):
                await self.listen(ws, user)
        except WebSocketDisconnect:
            pass
        finally:
            self.leave(user, ws)

    async def join(self, ws: WebSocket, user: str) -> bool:
        async with self.lock(user):
            backlog = self.store.pending(user)
            for note in backlog:
                if not await self.send(ws, {"type": "notification", **note}):
                    return False
            if not await self.send(ws, {"type": "backlog_end", "count": len(backlog)}):
                return False
            self.tabs.setdefault(user, []).append(ws)
        return True

    async def listen(self, ws: WebSocket, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                ids = parse_ack(message)
            except ValueError as exc:
                await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                reply = {"type": "error", "code": "bad_frame", "message": str(exc)}
            else:
                reply = {"type": "acked", "count": self.store.ack(user, ids)}
            try:
                await ws.send_json(reply)
            except Exception:
                return  # the tab is gone: its next connect gets the backlog


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    notifier = Notifier(store, events, send_timeout)
    events.on("notification.created", notifier.enrich, priority=EventPriority.HIGH)
    events.on("notification.created", notifier.store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", notifier.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        return await notifier.create(req, res)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await notifier.connect(ws)

    return app
