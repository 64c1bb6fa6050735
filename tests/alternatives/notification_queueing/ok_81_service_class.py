"""Exercise 4: notification_queueing.

Class-based: a `Store` on an autocommit sqlite3 connection whose writes each run in an
explicit BEGIN IMMEDIATE ... COMMIT, and a `Service` object per create_app that owns the
live tabs (`Tab` objects with a send lock and a `live` flag) and one asyncio.Lock per user.
The route validates before the emit; the listeners (HIGH enrich, MEDIUM store and push,
LOW audit) are bound methods of the service. Every send is bounded by send_timeout; a push
that fails marks the tab dead and it is never tried again.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import sqlite3
import time
from collections import defaultdict
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

_FRAME_KEYS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
_ids = itertools.count(1)


def _is_text(value: str) -> bool:
    """False when ``value`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    out: dict[str, str] = {}
    user = data.get("user")
    if type(user) is not str or NAME.fullmatch(user) is None:
        raise ValueError("'user' must be 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'")
    out["user"] = user
    if "title" not in data:
        raise ValueError("'title' is required")
    title = data["title"]
    if type(title) is not str or len(title) < 1 or len(title) > MAX_TITLE:
        raise ValueError(f"'title' must be text of 1 to {MAX_TITLE} characters")
    if all(ch.isspace() for ch in title):
        raise ValueError("'title' must hold more than whitespace")
    if not _is_text(title):
        raise ValueError("'title' holds a lone surrogate")
    out["title"] = title
    body = data.get("body", "")
    if "body" in data and (type(body) is not str or len(body) > MAX_BODY):
        raise ValueError(f"'body' must be text of at most {MAX_BODY} characters")
    if not _is_text(body):
        raise ValueError("'body' holds a lone surrogate")
    out["body"] = body
    level = data.get("level", "normal")
    if "level" in data and not any(type(level) is str and level == lv for lv in LEVELS):
        raise ValueError("'level' must be exactly 'low', 'normal' or 'high'")
    out["level"] = level
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message["text"]
    except (KeyError, TypeError):
        text = None
    if type(text) is not str:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deeply to parse") from None
    except ValueError:
        raise ValueError("the frame is not valid JSON") from None
    if type(frame) is not dict:
        raise ValueError("the frame must be a JSON object")
    if frame.get("type") != "ack" or type(frame.get("type")) is not str:
        raise ValueError("the frame's type must be 'ack'")
    ids = frame.get("ids")
    if type(ids) is not list:
        raise ValueError("'ids' must be a list")
    for one in ids:
        if type(one) is not str:
            raise ValueError("every id must be a string")
        if not _is_text(one):
            raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._write(
            "CREATE TABLE IF NOT EXISTS queue (nid TEXT PRIMARY KEY, owner TEXT NOT NULL, "
            "seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, "
            "level TEXT NOT NULL, created REAL NOT NULL, expires REAL NOT NULL)",
            "CREATE TABLE IF NOT EXISTS counters (owner TEXT PRIMARY KEY, last INTEGER NOT NULL)",
        )

    def _write(self, *statements: str | tuple[str, Any]) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for st in statements:
                if isinstance(st, tuple):
                    self._db.execute(*st)
                else:
                    self._db.execute(st)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        nid = f"n{next(_ids)}-{secrets.token_hex(8)}"
        self._db.execute("BEGIN IMMEDIATE")
        try:
            row = self._db.execute(
                "SELECT last FROM counters WHERE owner = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            self._db.execute(
                "INSERT OR REPLACE INTO counters (owner, last) VALUES (?, ?)", (user, seq))
            self._db.execute(
                "INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (nid, user, seq, fields["title"], fields["body"], fields["level"],
                 now, now + self.ttl))
            over = self._db.execute(
                "SELECT seq FROM queue WHERE owner = ? ORDER BY seq DESC LIMIT -1 OFFSET ?",
                (user, max(self.cap, 0))).fetchall()
            if over:
                self._db.execute(
                    "DELETE FROM queue WHERE owner = ? AND seq <= ?", (user, over[0][0]))
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return dict(zip(_FRAME_KEYS, (nid, seq, user, fields["title"], fields["body"],
                                      fields["level"], now, now + self.ttl)))

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._write(("DELETE FROM queue WHERE expires <= ?", (now,)))
        rows = self._db.execute(
            "SELECT nid, seq, owner, title, body, level, created, expires FROM queue "
            "WHERE owner = ? AND expires > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(_FRAME_KEYS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        removed = 0
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for nid in dict.fromkeys(ids):
                removed += self._db.execute(
                    "DELETE FROM queue WHERE nid = ? AND owner = ? AND expires > ?",
                    (nid, user, now)).rowcount
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return removed


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    user: str
    timeout: float
    live: bool = False
    dead: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, frame: dict[str, Any]) -> bool:
        """Send one frame within the timeout; a failure marks the tab dead for good."""
        if self.dead:
            return False
        text = json.dumps(frame)
        try:
            async with asyncio.timeout(self.timeout):
                async with self.lock:
                    await self.ws.send_text(text)
        except Exception:
            self.dead = True
            return False
        return True


class Service:
    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.bus = day25.install(app)
        self.store = store
        self.timeout = send_timeout
        self.tabs: dict[str, list[Tab]] = defaultdict(list)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.audited = 0
        self.bus.on("notification.created", self.enrich, priority=EventPriority.HIGH)
        self.bus.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        self.bus.on("notification.created", self.audit, priority=EventPriority.LOW)

    # -- listeners --------------------------------------------------------
    def enrich(self, note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except ValueError:
            note["rejected"] = True
            raise
        note.update(accepted)

    async def store_and_push(self, note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        user = note["user"]
        async with self.locks[user]:
            saved = self.store.add(user, note)
            note.update(saved)
            frame = {"type": "notification", **saved}
            targets = [t for t in self.tabs[user] if t.live and not t.dead]
            outcomes = await asyncio.gather(*(t.send(frame) for t in targets))
            self.tabs[user] = [t for t in self.tabs[user] if not t.dead]
            note["delivered"] = outcomes.count(True)

    def audit(self, note: dict[str, Any]) -> None:
        if not note.get("rejected"):
            self.audited += 1

    # -- routes -----------------------------------------------------------
    async def post(self, req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await self.bus.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification was refused"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    async def socket(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        tab = Tab(ws, str(user), self.timeout)
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await tab.send({"type": "error", "code": "bad_request",
                            "message": "the user name must be 1-32 of [A-Za-z0-9_.-]"})
            try:
                async with asyncio.timeout(self.timeout):
                    await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        self.tabs[user].append(tab)
        try:
            async with self.locks[user]:
                backlog = self.store.pending(user)
                for note in backlog:
                    if not await tab.send({"type": "notification", **note}):
                        break
                if not tab.dead and await tab.send({"type": "backlog_end",
                                                    "count": len(backlog)}):
                    tab.live = True
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(msg)
                except ValueError as exc:
                    await tab.send({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await tab.send({"type": "acked", "count": self.store.ack(user, ids)})
        except Exception:
            return
        finally:
            tab.live = False
            if tab in self.tabs[user]:
                self.tabs[user].remove(tab)
            if not self.tabs[user]:
                del self.tabs[user]


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    service = Service(app, Store(db_path, ttl_seconds=ttl_seconds,
                                 max_per_user=max_per_user), send_timeout)
    app.post("/notifications")(service.post)
    app.ws_route("/notifications/{user}")(service.socket)
    return app
