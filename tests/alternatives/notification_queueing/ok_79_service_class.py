"""Exercise 4: notification_queueing.

A class-based design: a ``NotificationService`` object owns one app's store, live tabs and
per-user locks, and its bound methods are the three listeners and the two routes. Validation
lives in the HIGH listener only: it marks a refused notification with a private key (an
``object()`` no client can send) and the route answers 422 from that mark. The store uses
``RETURNING`` for the per-user counter and ``json_each`` so an ack of any length is one
statement; ``DISTINCT`` makes a repeated id count once.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
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

FIELDS = ("user", "title", "body", "level")
FRAME_KEYS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
_REFUSED = object()  # the HIGH listener's mark on a refused notification


def _is_text(value: str) -> bool:
    """No lone surrogates: the string can be encoded as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("'user' must be 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'")
    title = data.get("title")
    if not (isinstance(title, str) and 0 < len(title) <= MAX_TITLE):
        raise ValueError(f"'title' must be a string of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("'title' is only whitespace")
    body = data.get("body", "")
    if not (isinstance(body, str) and len(body) <= MAX_BODY):
        raise ValueError(f"'body' must be a string of at most {MAX_BODY} characters")
    if not (_is_text(title) and _is_text(body)):
        raise ValueError("'title' and 'body' must not hold lone surrogates")
    level = data.get("level", "normal")
    if not (isinstance(level, str) and level in LEVELS):
        raise ValueError("'level' must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        return _parse_ack(message)
    except ValueError:
        raise
    except Exception as exc:  # RecursionError and anything odd: still a bad frame
        raise ValueError(f"unreadable frame ({type(exc).__name__})") from None


def _parse_ack(message: Any) -> list[str]:
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("the JSON is nested too deep") from None
    except ValueError:
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object whose "type" is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError('"ids" must be a list of strings')
    for item in ids:
        if not isinstance(item, str) or not _is_text(item):
            raise ValueError('"ids" must be a list of strings')
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self._mutex = threading.RLock()
        self._conn = sqlite3.connect(path, timeout=15.0, check_same_thread=False,
                                     isolation_level=None)  # explicit transactions only
        with self._mutex:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT NOT NULL, "
                "seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
                "level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)")
            self._conn.execute("CREATE INDEX IF NOT EXISTS queue_by_user ON queue (user, seq)")

    def _write(self, statements: list[tuple[str, tuple[Any, ...]]]) -> list[list[Any]]:
        """Run the statements in one committed write transaction; their rows."""
        with self._mutex:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                out = [self._conn.execute(sql, args).fetchall() for sql, args in statements]
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return out

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        created = time.time()
        row = {"id": str(uuid.uuid4()), "user": user, "title": fields["title"],
               "body": fields.get("body", ""), "level": fields.get("level", "normal"),
               "created_at": created, "expires_at": created + self.ttl_seconds}
        with self._mutex:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                (seq,) = self._conn.execute(
                    "INSERT INTO counters (user, last) VALUES (?, 1) ON CONFLICT (user) "
                    "DO UPDATE SET last = last + 1 RETURNING last", (user,)).fetchone()
                row["seq"] = seq
                self._conn.execute(
                    "INSERT INTO queue VALUES (:id, :user, :seq, :title, :body, :level, "
                    ":created_at, :expires_at)", row)
                self._conn.execute("DELETE FROM queue WHERE expires_at <= ?", (created,))
                self._conn.execute(
                    "DELETE FROM queue WHERE user = ? AND seq <= COALESCE((SELECT seq FROM queue "
                    "WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?), -1)",
                    (user, user, max(self.max_per_user, 0)))
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        return {key: row[key] for key in FRAME_KEYS}

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        self._write([("DELETE FROM queue WHERE expires_at <= ?", (now,))])
        with self._mutex:
            rows = self._conn.execute(
                f"SELECT {', '.join(FRAME_KEYS)} FROM queue WHERE user = ? AND expires_at > ? "
                "ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(FRAME_KEYS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        if not ids:
            return 0
        (deleted,) = self._write([(
            "DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN "
            "(SELECT DISTINCT value FROM json_each(?)) RETURNING id",
            (user, time.time(), json.dumps(list(ids))))])
        return len(deleted)


class NotificationService:
    """One app's queue, live tabs and locks; its methods are the listeners and routes."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.live: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audited = 0

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        """Send one frame within send_timeout; False when it failed or took too long."""
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
        except Exception:
            return False
        return True

    # -- the listeners of notification.created -----------------------------
    def enrich(self, note: dict[str, Any]) -> None:
        """HIGH: check it and fill the defaults, or mark it refused."""
        try:
            clean = validate({k: note[k] for k in FIELDS if k in note})
        except ValueError as exc:
            note[_REFUSED] = str(exc)
            return
        note.update(clean)

    async def deliver(self, note: dict[str, Any]) -> None:
        """MEDIUM: commit it, then push it to every live tab of its user."""
        if _REFUSED in note:
            return
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, note)
            tabs = list(self.live.get(user, ()))
            results = await asyncio.gather(
                *(self.send(ws, {"type": "notification", **stored}) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in self.live.get(user, ()):
                    self.live[user].remove(ws)
        note.update(id=stored["id"], seq=stored["seq"], delivered=sum(results))

    def audit(self, note: dict[str, Any]) -> None:
        """LOW: count what was stored."""
        if _REFUSED not in note and "id" in note:
            self.audited += 1

    # -- routes ---------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note: dict[Any, Any] = {k: data[k] for k in FIELDS if k in data}
        await self.app.events.emit("notification.created", note)
        if _REFUSED in note:
            return res.json({"error": note[_REFUSED]}, status_code=422)
        if "id" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def socket(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await self.send(ws, {"type": "error", "code": "bad_request",
                                 "message": "the user name must be 1-32 of [A-Za-z0-9_.-]"})
            try:
                await asyncio.wait_for(ws.close(code=BAD_REQUEST_CLOSE), self.send_timeout)
            except Exception:
                pass
            return
        joined = False
        try:
            async with self.lock(user):
                notes = self.store.pending(user)
                for note in notes:
                    if not await self.send(ws, {"type": "notification", **note}):
                        return
                if not await self.send(ws, {"type": "backlog_end", "count": len(notes)}):
                    return
                self.live.setdefault(user, []).append(ws)
                joined = True
            await self.listen(ws, user)
        except Exception:
            pass  # the client went away
        finally:
            if joined and ws in self.live.get(user, ()):
                self.live[user].remove(ws)

    async def listen(self, ws: WebSocket, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                ids = parse_ack(message)
            except ValueError as exc:
                reason = str(exc)
                await self.send(ws, {"type": "error", "code": "bad_frame", "message": reason})
                try:
                    await self.app.events.emit("ws.error", {"user": user, "error": reason})
                except Exception:
                    pass
                continue
            count = self.store.ack(user, ids)
            await self.send(ws, {"type": "acked", "count": count})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    day25.install(app)
    service = NotificationService(
        app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout)
    app.events.on("notification.created", service.enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", service.deliver, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", service.audit, priority=EventPriority.LOW)
    app.post("/notifications")(service.create)
    app.ws_route("/notifications/{user}")(service.socket)
    return app
