"""Bug: an ack only takes the ids that were sent on that same tab, so a tab acknowledging a pending notification of its user that it did not itself receive (its live push failed or timed out) gets a count of 0 and the notification stays queued.

Breaks: "the server answers that tab (not the user's other tabs) `{"type": "acked", "count": N}`, where `N` is how many distinct ids of the list were this user's pending (stored, unacknowledged, unexpired) notifications" ... "that tab" was taken as the scope of the ack too, but N counts the user's pending notifications: ann has tab A and tab B, B's push of `n` fails (so `delivered` is 1) and B is dropped but still open; B sends {"type": "ack", "ids": [n.id]} and gets count 0 instead of 1, and `n` comes back in ann's next backlog although it was acknowledged.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
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

_SURROGATE = re.compile("[\ud800-\udfff]")


def _text(data: dict[str, Any], key: str, low: int, high: int, default: str | None) -> str:
    if key not in data:
        if default is None:
            raise ValueError(f"{key} is required")
        return default
    value = data[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    if not low <= len(value) <= high:
        raise ValueError(f"{key} must be {low}-{high} characters")
    if _SURROGATE.search(value):
        raise ValueError(f"{key} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = _text(data, "title", 1, MAX_TITLE, None)
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    body = _text(data, "body", 0, MAX_BODY, "")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError('level must be "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message["text"] if isinstance(message, dict) else None
    except KeyError:
        text = None
    if not isinstance(text, str):
        raise ValueError("a binary frame is not an ack")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for one in ids:
        if not isinstance(one, str) or _SURROGATE.search(one):
            raise ValueError("ids must be strings (without lone surrogates)")
    return list(ids)


_FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._mutex = threading.RLock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=30)
        with self._transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY, seq INTEGER,"
                       " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL,"
                       " expires_at REAL, acked INTEGER NOT NULL DEFAULT 0)")
            db.execute("CREATE TABLE IF NOT EXISTS sequences (user TEXT PRIMARY KEY,"
                       " last INTEGER NOT NULL)")

    class _Tx:
        def __init__(self, store: Store) -> None:
            self.store = store

        def __enter__(self) -> sqlite3.Connection:
            self.store._mutex.acquire()
            try:
                self.store._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                self.store._mutex.release()
                raise
            return self.store._db

        def __exit__(self, kind: Any, *_: Any) -> None:
            try:
                self.store._db.execute("COMMIT" if kind is None else "ROLLBACK")
            finally:
                self.store._mutex.release()

    def _transaction(self) -> Store._Tx:
        return Store._Tx(self)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; the user keeps at most ``max_per_user``."""
        with self._transaction() as db:
            now = time.time()
            db.execute("DELETE FROM inbox WHERE expires_at <= ? OR acked = 1", (now,))
            row = db.execute("SELECT last FROM sequences WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO sequences (user, last) VALUES (?, ?)", (user, seq))
            note = {"id": secrets.token_urlsafe(12), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"), "created_at": now,
                    "expires_at": now + self.ttl_seconds}
            db.execute("INSERT INTO inbox (id, seq, user, title, body, level, created_at,"
                       " expires_at) VALUES (:id, :seq, :user, :title, :body, :level,"
                       " :created_at, :expires_at)", note)
            keep = db.execute("SELECT seq FROM inbox WHERE user = ? AND acked = 0"
                              " ORDER BY seq DESC LIMIT 1 OFFSET ?",
                              (user, max(self.max_per_user, 0))).fetchone()
            if keep is not None:
                db.execute("DELETE FROM inbox WHERE user = ? AND seq <= ?", (user, keep[0]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self._transaction() as db:
            now = time.time()
            db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT id, seq, user, title, body, level, created_at, expires_at"
                              " FROM inbox WHERE user = ? AND acked = 0 AND expires_at > ?"
                              " ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(_FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; how many distinct ones were this user's pending ones."""
        distinct = list(dict.fromkeys(ids))
        with self._transaction() as db:
            now = time.time()
            db.execute("CREATE TEMP TABLE IF NOT EXISTS ack_ids (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM ack_ids")
            db.executemany("INSERT OR IGNORE INTO ack_ids (id) VALUES (?)",
                           ((one,) for one in distinct))
            count = db.execute("UPDATE inbox SET acked = 1 WHERE user = ? AND acked = 0"
                               " AND expires_at > ? AND id IN (SELECT id FROM ack_ids)",
                               (user, now)).rowcount
            db.execute("DELETE FROM ack_ids")
        return count


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    user: str
    sending: asyncio.Lock = field(default_factory=asyncio.Lock)
    received: set[str] = field(default_factory=set)  # ids this tab was sent

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.sending:
            await self.ws.send_text(json.dumps(frame))
        if frame.get("type") == "notification":
            self.received.add(frame["id"])

    def acknowledgeable(self, ids: list[str]) -> list[str]:
        """A tab acknowledges what it received: the ids it was sent."""
        return [one for one in ids if one in self.received]


class Hub:
    """The app's listeners and its live tabs."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.bus = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[Tab]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audited = 0
        self.bus.on("notification.created", self.check, priority=EventPriority.HIGH)
        self.bus.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        self.bus.on("notification.created", self.audit, priority=EventPriority.LOW)

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def check(self, note: dict[str, Any]) -> None:
        raw = dict(note)
        note.clear()
        note["refused"] = True
        accepted = validate(raw)  # raises: the route answers 422 with its message
        note.clear()
        note.update(accepted)

    async def _push(self, tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.send(frame), self.send_timeout)
        except Exception:  # noqa: BLE001 - failed or timed out
            return False
        return True

    async def store_and_push(self, note: dict[str, Any]) -> None:
        if note.get("refused"):
            return
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, note)
            note["id"], note["seq"], note["delivered"] = stored["id"], stored["seq"], 0
            if stored["expires_at"] <= time.time():
                return
            tabs = list(self.tabs.get(user, ()))
            frame = {"type": "notification", **stored}
            reached = await asyncio.gather(*(self._push(tab, frame) for tab in tabs))
            for tab, ok in zip(tabs, reached):
                if not ok:
                    self.leave(tab)
            note["delivered"] = sum(reached)

    def audit(self, note: dict[str, Any]) -> None:
        if not note.get("refused"):
            self.audited += 1

    def leave(self, tab: Tab) -> None:
        tabs = self.tabs.get(tab.user, [])
        if tab in tabs:
            tabs.remove(tab)

    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON text"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "a notification is a JSON object"}, status_code=422)
        note: dict[str, Any] = data
        result = await self.bus.emit("notification.created", note)
        if note.get("refused") or "id" not in note:
            errors = [e for e in result.errors if isinstance(e, ValueError)] or result.errors
            return res.json({"error": str(errors[0]) if errors else "refused"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": f"bad user name {user!r}"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:  # noqa: BLE001 - gone already
                pass
            return
        tab = Tab(ws, user)
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for note in backlog:
                    await tab.send({"type": "notification", **note})
                await tab.send({"type": "backlog_end", "count": len(backlog)})
                self.tabs.setdefault(user, []).append(tab)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await tab.send({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.bus.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    count = self.store.ack(user, tab.acknowledgeable(ids))
                    await tab.send({"type": "acked", "count": count})
        except Exception:  # noqa: BLE001 - the client left: not an error
            pass
        finally:
            self.leave(tab)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    hub = Hub(app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
              send_timeout)
    app.post("/notifications")(hub.create)
    app.ws_route("/notifications/{user}")(hub.connect)
    return app
