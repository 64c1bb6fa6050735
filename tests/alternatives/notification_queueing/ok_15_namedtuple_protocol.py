"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): notification_queueing with a ``typing.NamedTuple`` row factory, a ``Protocol`` clock,
a ``contextlib.contextmanager`` transaction, ``__slots__`` and ``asyncio.TaskGroup`` pushes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any, NamedTuple, Protocol

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

log = logging.getLogger(__name__)

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped
_MISSING = object()


def _is_text(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")  # a lone surrogate cannot be encoded
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user", _MISSING)
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("'user' must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title", _MISSING)
    if not _is_text(title) or len(title) > MAX_TITLE or not title.strip():
        raise ValueError(f"'title' must be 1-{MAX_TITLE} characters, not all whitespace")
    body = data.get("body", "")
    if not _is_text(body) or len(body) > MAX_BODY:
        raise ValueError(f"'body' must be at most {MAX_BODY} characters of text")
    level = data.get("level", "normal")
    if not (isinstance(level, str) and level in LEVELS):
        raise ValueError("'level' must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one ``{"type": "ack", "ids": [...]}`` frame, or ValueError."""
    if message.get("text") is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(message["text"])
    except RecursionError:
        raise ValueError("the frame is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    match data:
        case {"type": "ack", "ids": list(ids)} if all(_is_text(i) for i in ids):
            if isinstance(data["type"], str):
                return ids
    raise ValueError('expected {"type": "ack", "ids": [strings]}')


class Clock(Protocol):
    def __call__(self) -> float: ...


class Note(NamedTuple):
    id: str
    seq: int
    user: str
    title: str
    body: str
    level: str
    created_at: float
    expires_at: float


def _note_factory(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Any:
    names = tuple(d[0] for d in cursor.description)
    return Note(*row) if names == Note._fields else row


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    __slots__ = ("ttl_seconds", "max_per_user", "clock", "_db")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int,
                 clock: Clock = time.time) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.clock = clock
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = _note_factory
        with self._transaction() as db:
            db.execute(f"CREATE TABLE IF NOT EXISTS queue ({', '.join(Note._fields)},"
                       " PRIMARY KEY (id), UNIQUE (user, seq))")
            db.execute("CREATE TABLE IF NOT EXISTS seqs (user PRIMARY KEY, seq)")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = self.clock()
        with self._transaction() as db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            db.execute("INSERT INTO seqs VALUES (?, 1) ON CONFLICT (user) DO UPDATE"
                       " SET seq = seq + 1", (user,))
            (seq,) = db.execute("SELECT seq FROM seqs WHERE user = ?", (user,)).fetchone()
            note = Note(uuid.uuid4().hex, seq, user, fields["title"], fields["body"],
                        fields["level"], now, now + self.ttl_seconds)
            db.execute(f"INSERT INTO queue VALUES ({', '.join('?' * len(note))})", note)
            db.execute("DELETE FROM queue WHERE user = ? AND seq NOT IN (SELECT seq FROM queue"
                       " WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                       (user, user, self.max_per_user))
        return note._asdict()

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._transaction() as db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (self.clock(),))
            notes = db.execute(f"SELECT {', '.join(Note._fields)} FROM queue WHERE user = ?"
                               " ORDER BY seq", (user,)).fetchall()
        return [n._asdict() for n in notes]

    def ack(self, user: str, ids: list[str]) -> int:
        now = self.clock()
        with self._transaction() as db:
            return sum(db.execute("DELETE FROM queue WHERE user = ? AND id = ? AND"
                                  " expires_at > ?", (user, i, now)).rowcount
                       for i in set(ids))


class Tabs:
    """user -> live WebSocket tabs."""

    __slots__ = ("_by_user",)

    def __init__(self) -> None:
        self._by_user: dict[str, set[WebSocket]] = {}

    def add(self, user: str, ws: WebSocket) -> None:
        self._by_user.setdefault(user, set()).add(ws)

    def drop(self, user: str, ws: WebSocket) -> None:
        tabs = self._by_user.get(user)
        if tabs is not None:
            tabs.discard(ws)
            if not tabs:
                del self._by_user[user]

    def of(self, user: str) -> list[WebSocket]:
        return list(self._by_user.get(user, ()))

    def __contains__(self, user: object) -> bool:
        return user in self._by_user

    def __len__(self) -> int:
        return sum(map(len, self._by_user.values()))


def _json_default(value: object) -> Any:
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return value._asdict()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


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
    tabs = Tabs()
    locks: dict[str, asyncio.Lock] = {}

    def lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, frame: dict[str, Any]) -> int:
        text = json.dumps(frame, default=_json_default)
        reached: list[WebSocket] = []

        async def send(ws: WebSocket) -> None:
            try:
                async with asyncio.timeout(send_timeout):
                    await ws.send_text(text)
            except Exception:
                tabs.drop(user, ws)
            else:
                reached.append(ws)

        async with asyncio.TaskGroup() as group:
            for ws in tabs.of(user):
                group.create_task(send(ws))
        return len(reached)

    async def enrich(notice: dict[str, Any]) -> None:
        notice.update(validate(notice))

    async def store_and_push(notice: dict[str, Any]) -> None:
        async with lock(notice["user"]):
            note = store.add(notice["user"], notice)
            delivered = await push(notice["user"], {"type": "notification", **note})
        notice |= {"id": note["id"], "seq": note["seq"], "delivered": delivered}

    def audit(notice: dict[str, Any]) -> None:
        log.info("notification %s seq %s for %s", notice.get("id"), notice.get("seq"),
                 notice["user"])

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw: bytes = await req.body
        try:
            notice = validate(json.loads(raw.decode("utf-8")))
        except RecursionError:
            return res.json({"error": "the body is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        outcome = await events.emit("notification.created", notice)
        if not outcome.ok or "id" not in notice:
            return res.json({"error": "could not store the notification"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name: 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_text(json.dumps({"type": "notification", **note}))
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                tabs.add(user, ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                else:
                    await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except WebSocketDisconnect:
            pass
        finally:
            tabs.drop(user, ws)

    return app
