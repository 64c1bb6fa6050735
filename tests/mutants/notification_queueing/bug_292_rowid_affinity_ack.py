"""Exercise 4: notification_queueing. Per-call connections; ids are SQLite AUTOINCREMENT row ids as text.

BUG (planted): "An id matches only exactly as given (`"01"`, `" 1"` or `"1\n"` is not
the id `"1"`, another case neither)". This version lets SQLite hand out the ids
(``id INTEGER PRIMARY KEY AUTOINCREMENT``: unique and never reused), sends them as
``str(rowid)``, and acknowledges with ``... AND id IN (?, ...)`` bound to the strings
the client sent. SQLite's type affinity converts a text that looks like a number
before comparing with an INTEGER column, so ``"01"``, ``" 1"``, ``"1\n"`` and
``"1.0"`` all acknowledge (and count) the notification ``"1"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import time
from collections import defaultdict
from collections.abc import Iterator
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

_SURROGATES = re.compile("[\ud800-\udfff]")


def _text(data: dict[str, Any], key: str, *, default: str | None, low: int, high: int) -> str:
    if key not in data:
        if default is None:
            raise ValueError(f"{key} is required")
        return default
    value = data[key]
    if type(value) is not str:
        raise ValueError(f"{key} must be a string")
    if not low <= len(value) <= high:
        raise ValueError(f"{key} must be {low}-{high} characters long")
    if _SURROGATES.search(value):
        raise ValueError(f"{key} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if type(user) is not str or not NAME.fullmatch(user):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    title = _text(data, "title", default=None, low=1, high=MAX_TITLE)
    if title.isspace():
        raise ValueError("title is blank")
    body = _text(data, "body", default="", low=0, high=MAX_BODY)
    level = data.get("level", "normal")
    if type(level) is not str or level not in LEVELS:
        raise ValueError('level must be exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        return _parse_ack(message)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - never anything but ValueError
        raise ValueError(f"unreadable frame: {type(exc).__name__}") from None


def _parse_ack(message: dict[str, Any]) -> list[str]:
    if message.get("text") is None:
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(message["text"])
    except RecursionError:
        raise ValueError("frame nested too deeply") from None
    except ValueError:
        raise ValueError("frame is not JSON") from None
    if type(frame) is not dict or frame.get("type") != "ack" or type(frame.get("type")) is not str:
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if type(ids) is not list:
        raise ValueError("ids must be a list")
    for one in ids:
        if type(one) is not str:
            raise ValueError("every id must be a string")
        if _SURROGATES.search(one):
            raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    SCHEMA = (
        "CREATE TABLE IF NOT EXISTS queue ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, seq INTEGER NOT NULL,"
        " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
        " created_at REAL NOT NULL, expires_at REAL NOT NULL, UNIQUE (user, seq))",
        "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
    )
    FIELDS = "id, seq, user, title, body, level, created_at, expires_at"

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with self._write() as db:
            for statement in self.SCHEMA:
                db.execute(statement)

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
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

    @staticmethod
    def _shape(row: sqlite3.Row) -> dict[str, Any]:
        note = {key: row[key] for key in row.keys()}
        note["id"] = str(note["id"])  # ids are strings on the wire
        return note

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        created = time.time()
        with self._write() as db:
            db.execute("INSERT OR IGNORE INTO counters (user, seq) VALUES (?, 0)", (user,))
            db.execute("UPDATE counters SET seq = seq + 1 WHERE user = ?", (user,))
            seq = db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()[0]
            note = {"seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": created, "expires_at": created + self.ttl_seconds}
            cur = db.execute(
                "INSERT INTO queue (seq, user, title, body, level, created_at, expires_at) VALUES"
                " (:seq, :user, :title, :body, :level, :created_at, :expires_at)", note)
            note = {"id": str(cur.lastrowid), **note}
            kept = db.execute("SELECT COUNT(*) FROM queue WHERE user = ?", (user,)).fetchone()[0]
            if kept > self.max_per_user:
                db.execute("DELETE FROM queue WHERE id IN (SELECT id FROM queue WHERE user = ?"
                           " ORDER BY seq LIMIT ?)", (user, kept - self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute(f"SELECT {self.FIELDS} FROM queue WHERE user = ? ORDER BY seq",
                              (user,)).fetchall()
        return [self._shape(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        distinct = sorted(set(ids))
        now = time.time()
        acked = 0
        with self._write() as db:
            for start in range(0, len(distinct), 400):
                part = distinct[start:start + 400]
                marks = ",".join("?" * len(part))
                acked += db.execute(
                    f"DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    [user, now, *part]).rowcount
        return acked


class Hub:
    """The live tabs of one app, by exact user name."""

    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self.tabs: defaultdict[str, set[WebSocket]] = defaultdict(set)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def join(self, user: str, ws: WebSocket) -> None:
        self.tabs[user].add(ws)

    def leave(self, user: str, ws: WebSocket) -> None:
        self.tabs[user].discard(ws)
        if not self.tabs[user]:
            del self.tabs[user]

    async def _send(self, user: str, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
        except Exception:  # noqa: BLE001 - failed or too slow: the tab is dead
            if ws in self.tabs.get(user, ()):
                self.leave(user, ws)
            return False
        return True

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        targets = list(self.tabs.get(user, ()))
        results = await asyncio.gather(*(self._send(user, ws, frame) for ws in targets))
        return sum(results)


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
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    hub = Hub(send_timeout)
    stats = {"created": 0}

    @bus.on("notification.created", priority=EventPriority.HIGH)
    def enrich(note: Any) -> None:
        accepted = validate(note)  # raises ValueError: the route answers 422
        for key in [k for k in note if k not in accepted]:
            del note[key]  # other fields are neither stored nor delivered
        note.update(accepted)

    @bus.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(note: Any) -> None:
        try:
            fields = validate(note)
        except ValueError:
            return
        user = fields["user"]
        async with hub.locks[user]:
            stored = await asyncio.to_thread(store.add, user, fields)
            delivered = await hub.push(user, {"type": "notification", **stored})
        note.update(stored, delivered=delivered)

    @bus.on("notification.created", priority=EventPriority.LOW)
    def audit(note: Any) -> None:
        if isinstance(note, dict) and "seq" in note:
            stats["created"] += 1

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            return res.json({"error": f"invalid JSON: {type(exc).__name__}"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        result = await bus.emit("notification.created", data)
        refused = [e for e in result.errors if isinstance(e, ValueError)]
        if refused:
            return res.json({"error": str(refused[0])}, status_code=422)
        if "seq" not in data or "delivered" not in data:
            return res.json({"error": "not stored"}, status_code=422)
        return res.json({"id": data["id"], "seq": data["seq"], "delivered": data["delivered"]},
                        status_code=201)

    async def serve_tab(ws: WebSocket, user: str) -> None:
        async with hub.locks[user]:
            backlog = await asyncio.to_thread(store.pending, user)
            for note in backlog:
                await ws.send_json({"type": "notification", **note})
            await ws.send_json({"type": "backlog_end", "count": len(backlog)})
            hub.join(user, ws)
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                ids = parse_ack(message)
            except ValueError as exc:
                await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                await bus.emit("ws.error", {"user": user, "error": str(exc)})
                continue
            count = await asyncio.to_thread(store.ack, user, ids)
            await ws.send_json({"type": "acked", "count": count})

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if type(user) is not str or not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            await serve_tab(ws, user)
        except Exception:  # noqa: BLE001 - a tab that went away is not an error
            pass
        finally:
            if ws in hub.tabs.get(user, ()):
                hub.leave(user, ws)

    return app
