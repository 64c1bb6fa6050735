""""N the user's sequence number (1, 2, 3, ... per user)"; Store opens "(or creates)
the database at path".
The last seq per user is cached in a dict that is a class attribute, shared by
every Store of the process. The first Store counts right; a second Store on a new
file in the same process continues the first one's numbers (ann starts at 4).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
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

FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _utf8_ok(text: str) -> bool:
    """False for a string holding a lone surrogate (it cannot be encoded as UTF-8)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text_field(name: str, value: Any, limit: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"'{name}' must be a string")
    if len(value) > limit:
        raise ValueError(f"'{name}' is longer than {limit} characters")
    if not _utf8_ok(value):
        raise ValueError(f"'{name}' holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("'user' is required")
    user = data["user"]
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("'user' must be 1-32 characters of A-Z a-z 0-9 _ . -")
    if "title" not in data:
        raise ValueError("'title' is required")
    title = _text_field("title", data["title"], MAX_TITLE)
    if title == "" or title.isspace():
        raise ValueError("'title' must hold at least one non-whitespace character")
    body = _text_field("body", data["body"], MAX_BODY) if "body" in data else ""
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("'level' must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"the frame is not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if not isinstance(ids, list):
        raise ValueError("'ids' must be a list")
    for item in ids:
        if not isinstance(item, str) or not _utf8_ok(item):
            raise ValueError("every id must be a string")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    last_seq: dict[str, int] = {}  # cache of the counters table

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS queue (
                id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS queue_by_user ON queue (user, seq);
            CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
            """
        )

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            if user not in self.last_seq:
                row = db.execute("SELECT last FROM counters WHERE user = ?",
                                 (user,)).fetchone()
                self.last_seq[user] = row[0] if row else 0
            seq = self.last_seq[user] + 1
            db.execute("INSERT OR REPLACE INTO counters (user, last) VALUES (?, ?)", (user, seq))
            self.last_seq[user] = seq
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            db.execute("INSERT INTO queue (id, seq, user, title, body, level, created_at, "
                       "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       [note[f] for f in FIELDS])
            newest_first = [r[0] for r in db.execute(
                "SELECT id FROM queue WHERE user = ? ORDER BY seq DESC", (user,))]
            db.executemany("DELETE FROM queue WHERE id = ?",
                           [(i,) for i in newest_first[self.max_per_user:]])
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._tx() as db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute(f"SELECT {', '.join(FIELDS)} FROM queue "
                              "WHERE user = ? AND expires_at > ? ORDER BY seq",
                              (user, now)).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        wanted = [(i,) for i in ids if isinstance(i, str) and _utf8_ok(i)]
        with self._tx() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS ack_ids (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM temp.ack_ids")
            db.executemany("INSERT OR IGNORE INTO temp.ack_ids (id) VALUES (?)", wanted)
            cur = db.execute("DELETE FROM queue WHERE user = ? AND expires_at > ? "
                             "AND id IN (SELECT id FROM temp.ack_ids)", (user, now))
            count = cur.rowcount
        return count


class Hub:
    """The live side: each user's open tabs, one lock per user, pushes and the WebSocket."""

    def __init__(self, store: Store, events: Any, send_timeout: float) -> None:
        self.store = store
        self.events = events
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audit: Counter[str] = Counter()

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
        except Exception:
            return False
        return True

    async def push(self, user: str, note: dict[str, Any]) -> int:
        live = list(self.tabs.get(user, []))
        if not live:
            return 0
        frame = {"type": "notification", **note}
        results = await asyncio.gather(*(self.send(ws, frame) for ws in live))
        dead = [ws for ws, ok in zip(live, results) if not ok]
        if dead:
            self.tabs[user] = [ws for ws in self.tabs.get(user, []) if ws not in dead]
        return sum(results)

    def leave(self, user: str, ws: WebSocket) -> None:
        current = self.tabs.get(user, [])
        if ws in current:
            current.remove(ws)

    async def connection(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user must be 1-32 characters of A-Z a-z 0-9 _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for note in backlog:
                    if not await self.send(ws, {"type": "notification", **note}):
                        return
                if not await self.send(ws, {"type": "backlog_end", "count": len(backlog)}):
                    return
                self.tabs.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except WebSocketDisconnect:
            return
        finally:
            self.leave(user, ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with ``POST /notifications`` and the ``/notifications/{user}`` WebSocket."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    hub = Hub(store, events, send_timeout)

    @events.on("notification.created", priority=EventPriority.HIGH)
    def fill_defaults(notice: dict[str, Any]) -> None:
        notice.setdefault("body", "")
        notice.setdefault("level", "normal")

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_then_push(notice: dict[str, Any]) -> None:
        user = notice["user"]
        async with hub.lock(user):
            note = store.add(user, notice)
            delivered = await hub.push(user, note)
        notice.update(id=note["id"], seq=note["seq"], delivered=delivered)

    @events.on("notification.created", priority=EventPriority.LOW)
    def count_it(notice: dict[str, Any]) -> None:
        hub.audit[notice["user"]] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            return res.json({"error": "the body is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": f"the body is not UTF-8 JSON: {exc}"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", notice)
        if "id" not in notice:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    app.ws_route("/notifications/{user}")(hub.connection)
    return app
