"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): notification_queueing with a frozen ``Notification`` dataclass, ``enum.StrEnum`` levels,
``sqlite3.Row`` as row factory, ``uuid`` ids and a per-user ``asyncio.Lock``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import re
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


class Level(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


@dataclasses.dataclass(frozen=True, slots=True)
class Notification:
    id: str
    seq: int
    user: str
    title: str
    body: str
    level: str
    created_at: float
    expires_at: float

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Notification:
        return cls(**{f.name: row[f.name] for f in dataclasses.fields(cls)})

    def frame(self) -> dict[str, Any]:
        return {"type": "notification", **dataclasses.asdict(self)}


def _text(value: object) -> bool:
    return isinstance(value, str) and LONE_SURROGATE.search(value) is None


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("'user' must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not _text(title) or not 1 <= len(title) <= MAX_TITLE or title.isspace():
        raise ValueError(f"'title' must be 1-{MAX_TITLE} characters, not only whitespace")
    body = data.get("body", "")
    if not _text(body) or len(body) > MAX_BODY:
        raise ValueError(f"'body' must be text of at most {MAX_BODY} characters")
    level = data.get("level", Level.NORMAL.value)
    if not isinstance(level, str) or level not in {lv.value for lv in Level}:
        raise ValueError(f"'level' must be one of {', '.join(LEVELS)}")
    return {"user": user, "title": title, "body": body, "level": str(level)}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one ``{"type": "ack", "ids": [...]}`` frame, or ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(map(_text, ids)):
        raise ValueError("'ids' must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        with self.db:
            self.db.executescript(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,"
                " UNIQUE (user, seq));"
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL);")

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self._purge(now)
            row = self.db.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row["last"] if row else 0) + 1
            self.db.execute("INSERT OR REPLACE INTO counters (user, last) VALUES (?, ?)",
                            (user, seq))
            note = Notification(uuid.uuid4().hex, seq, user, fields["title"], fields["body"],
                                fields["level"], now, now + self.ttl)
            self.db.execute("INSERT INTO notes VALUES (:id, :seq, :user, :title, :body, :level,"
                            " :created_at, :expires_at)", dataclasses.asdict(note))
            # the cap: everything past the user's newest ``cap`` rows goes
            self.db.execute("DELETE FROM notes WHERE user = ? AND seq IN (SELECT seq FROM notes"
                            " WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                            (user, user, self.cap))
        return dataclasses.asdict(note)

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self.db:
            self._purge(time.time())
            rows = self.db.execute("SELECT * FROM notes WHERE user = ? ORDER BY seq",
                                   (user,)).fetchall()
        return [dataclasses.asdict(Notification.from_row(r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self.db:
            for i in dict.fromkeys(ids):
                count += self.db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (i, user, now)).rowcount
        return count


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with ``POST /notifications`` and the ``/notifications/{user}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: defaultdict[str, set[WebSocket]] = defaultdict(set)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit: Counter[str] = Counter()

    async def push(user: str, frame: dict[str, Any]) -> int:
        text = json.dumps(frame)
        live = list(tabs[user])

        async def send(ws: WebSocket) -> bool:
            try:
                await asyncio.wait_for(ws.send_text(text), send_timeout)
            except Exception:
                tabs[user].discard(ws)
                return False
            return True

        return sum(await asyncio.gather(*map(send, live)))

    @events.on("notification.created", priority=EventPriority.HIGH)
    def enrich(notice: dict[str, Any]) -> None:
        notice.update(validate(notice))

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(notice: dict[str, Any]) -> None:
        user = notice["user"]
        async with locks[user]:
            note = store.add(user, notice)
            delivered = await push(user, {"type": "notification", **note})
        notice.update(id=note["id"], seq=note["seq"], delivered=delivered)

    @events.on("notification.created", priority=EventPriority.LOW)
    def count(notice: dict[str, Any]) -> None:
        audit[notice["user"]] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
            notice: dict[str, Any] = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await events.emit("notification.created", notice)
        if not result.ok or "id" not in notice:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({k: notice[k] for k in ("id", "seq", "delivered")}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                tabs[user].add(ws)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except WebSocketDisconnect:
            pass
        finally:
            tabs[user].discard(ws)

    return app
