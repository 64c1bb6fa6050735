"""Style: one NotificationHub class owns the store, the live Tab objects (a dataclass with an `alive` flag) and the per-user locks; validation runs only in the HIGH listener and the route answers 422 from the emit's error; the cap is one DELETE over a ROW_NUMBER() window.

Follows: "HIGH validate/enrich (defaults), MEDIUM store and push to every open tab of the user, LOW audit" (the three bound methods `_validate`, `_store_and_push`, `_audit`; a rejected notification is marked and skipped, so it is "never stored and uses no `seq`"); "Invalid JSON, not an object, or a bad field: 422" (strict UTF-8 decode, `json.loads` errors and `RecursionError` caught in the route); "`seq` increases by one per user and is never reused" (a `counters` table, bumped in the same transaction as the insert); "the oldest (lowest seq) is dropped" (rows ranked by seq DESC, rank > max_per_user deleted); "expired once `expires_at <= time.time()`" (every read and ack filters `expires_at > now`); "how many distinct ids ... were this user's pending" (de-duplicated ids, `DELETE ... WHERE user = ? AND expires_at > ? AND id IN (...)` counted by rowcount, chunked so there is no length limit); "Backlog first ... Then live" (backlog, `backlog_end`, joining the live tabs, all under the user's lock, which the push also holds); "drops that tab from the live ones" (a failed or timed-out send marks the Tab dead and removes it, `asyncio.wait_for(..., send_timeout)` per send); "a notification is committed to SQLite before it is pushed" (`with self.db:` commits before the push starts).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
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

SURROGATE = re.compile("[\ud800-\udfff]")
FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _string(data: dict[str, Any], key: str, limit: int) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    if len(value) > limit:
        raise ValueError(f"{key} is longer than {limit} characters")
    if SURROGATE.search(value):
        raise ValueError(f"{key} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification is not a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is missing")
    title = _string(data, "title", MAX_TITLE)
    if title == "" or title.isspace():
        raise ValueError("title is empty or only whitespace")
    body = _string(data, "body", MAX_BODY) if "body" in data else ""
    level = data["level"] if "level" in data else "normal"
    if not (isinstance(level, str) and level in LEVELS):
        raise ValueError('level must be "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("a binary frame is not an ack")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame is not a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('the frame\'s type is not "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids is not a list")
    for item in ids:
        if not isinstance(item, str):
            raise ValueError("ids holds something that is not a string")
        if SURROGATE.search(item):
            raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.executescript(
                """
                CREATE TABLE IF NOT EXISTS queue (
                    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                    created_at REAL NOT NULL, expires_at REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS queue_by_user ON queue (user, seq);
                CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
                """
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        created = time.time()
        with self.db:
            self.db.execute("DELETE FROM queue WHERE expires_at <= ?", (created,))
            self.db.execute("INSERT OR IGNORE INTO counters (user, last) VALUES (?, 0)", (user,))
            self.db.execute("UPDATE counters SET last = last + 1 WHERE user = ?", (user,))
            (seq,) = self.db.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            note = dict(zip(FIELDS, (uuid.uuid4().hex, seq, user, fields["title"],
                                     fields.get("body", ""), fields.get("level", "normal"),
                                     created, created + self.ttl_seconds)))
            self.db.execute(f"INSERT INTO queue ({', '.join(FIELDS)}) VALUES (?,?,?,?,?,?,?,?)",
                            [note[f] for f in FIELDS])
            self.db.execute(
                "DELETE FROM queue WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER"
                " (ORDER BY seq DESC) AS rank FROM queue WHERE user = ?) WHERE rank > ?)",
                (user, max(self.max_per_user, 0)),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            cursor = self.db.execute(
                f"SELECT {', '.join(FIELDS)} FROM queue WHERE user = ? AND expires_at > ?"
                " ORDER BY seq", (user, now))
            return [dict(zip(FIELDS, row)) for row in cursor]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        unique = sorted(set(ids))
        now = time.time()
        acked = 0
        with self.db:
            for start in range(0, len(unique), 400):
                part = unique[start:start + 400]
                acked += self.db.execute(
                    f"DELETE FROM queue WHERE user = ? AND expires_at > ?"
                    f" AND id IN ({', '.join('?' for _ in part)})", (user, now, *part)).rowcount
        return acked


@dataclass(eq=False)
class Tab:
    """One open WebSocket of a user."""

    ws: WebSocket
    alive: bool = True


class NotificationHub:
    """Everything one app needs: the store, the live tabs per user, a lock per user."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[Tab]] = defaultdict(list)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.audit_log: list[tuple[str, int, int]] = []
        self.events.on("notification.created", self._validate, priority=EventPriority.HIGH)
        self.events.on("notification.created", self._store_and_push, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self._audit, priority=EventPriority.LOW)

    # -- listeners -----------------------------------------------------------
    def _validate(self, note: dict[str, Any]) -> None:
        try:
            clean = validate(note)
        except ValueError:
            note["rejected"] = True
            raise
        note.clear()
        note.update(clean)

    async def _store_and_push(self, note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        async with self.locks[note["user"]]:
            stored = self.store.add(note["user"], note)
            note.update(stored)
            note["delivered"] = await self._push(note["user"], {"type": "notification", **stored})

    def _audit(self, note: dict[str, Any]) -> None:
        if "seq" in note:
            self.audit_log.append((note["user"], note["seq"], note.get("delivered", 0)))

    # -- sending -------------------------------------------------------------
    async def _send(self, tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.ws.send_json(frame), self.send_timeout)
            return True
        except Exception:
            tab.alive = False
            return False

    async def _push(self, user: str, frame: dict[str, Any]) -> int:
        targets = [tab for tab in self.tabs[user] if tab.alive]
        reached = await asyncio.gather(*(self._send(tab, frame) for tab in targets))
        self.tabs[user] = [tab for tab in self.tabs[user] if tab.alive]
        return sum(reached)

    # -- routes --------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not valid UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "the notification is not a JSON object"}, status_code=422)
        note = dict(data)
        result = await self.events.emit("notification.created", note)
        if note.get("rejected") or "seq" not in note:
            reasons = [str(e) for e in result.errors if isinstance(e, ValueError)]
            return res.json({"error": reasons[0] if reasons else "not stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws)
        try:
            async with self.locks[user]:
                backlog = self.store.pending(user)
                for row in backlog:
                    if not await self._send(tab, {"type": "notification", **row}):
                        return
                if not await self._send(tab, {"type": "backlog_end", "count": len(backlog)}):
                    return
                self.tabs[user].append(tab)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except Exception:
            return  # the client went away; a disconnect is not an error
        finally:
            tab.alive = False
            if tab in self.tabs.get(user, ()):
                self.tabs[user].remove(tab)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    hub = NotificationHub(app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
                          send_timeout)
    app.post("/notifications")(hub.create)
    app.ws_route("/notifications/{user}")(hub.connect)
    return app
