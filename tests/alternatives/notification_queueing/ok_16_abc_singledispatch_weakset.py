"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): notification_queueing with an ``abc.ABC`` queue interface, ``functools.singledispatchmethod``
field checks, ``functools.cached_property`` SQL, ``weakref.WeakSet`` live tabs, ``pathlib``
and ``__enter__``/``__exit__`` on the store.
"""

from __future__ import annotations

import abc
import asyncio
import json
import logging
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from functools import cached_property, singledispatchmethod
from operator import itemgetter
from pathlib import Path
from typing import Any
from weakref import WeakSet

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

log = logging.getLogger(__name__)

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
SURROGATE = re.compile(r"[\ud800-\udfff]")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped
FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Text:
    """Checks one text field; ``check`` dispatches on the value's type."""

    def __init__(self, name: str, *, max_len: int, blank_ok: bool) -> None:
        self.name, self.max_len, self.blank_ok = name, max_len, blank_ok

    @singledispatchmethod
    def check(self, value: object) -> str:
        raise ValueError(f"'{self.name}' must be a string, not {type(value).__name__}")

    @check.register
    def _(self, value: str) -> str:
        if SURROGATE.search(value):
            raise ValueError(f"'{self.name}' holds a lone surrogate")
        if len(value) > self.max_len:
            raise ValueError(f"'{self.name}' is longer than {self.max_len} characters")
        if not self.blank_ok and not value.strip():
            raise ValueError(f"'{self.name}' must not be empty or only whitespace")
        return value


TITLE = Text("title", max_len=MAX_TITLE, blank_ok=False)
BODY = Text("body", max_len=MAX_BODY, blank_ok=True)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("'user' must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("'title' is required")
    title = TITLE.check(data["title"])
    body = BODY.check(data.get("body", ""))
    level = data.get("level", "normal")
    if type(level) is not str or level not in LEVELS:
        raise ValueError(f"'level' must be one of {LEVELS}")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one ``{"type": "ack", "ids": [...]}`` frame, or ValueError."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if type(data) is not dict or data.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if type(ids) is not list or any(type(i) is not str or SURROGATE.search(i) for i in ids):
        raise ValueError("'ids' must be a list of strings")
    return ids


class Queue(abc.ABC):
    @abc.abstractmethod
    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]: ...

    @abc.abstractmethod
    def pending(self, user: str) -> list[dict[str, Any]]: ...

    @abc.abstractmethod
    def ack(self, user: str, ids: list[str]) -> int: ...


class Store(Queue):
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = Path(path)
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.db = sqlite3.connect(self.path, check_same_thread=False)
        self.db.row_factory = lambda cursor, row: dict(zip(FIELDS, row, strict=True))
        with self.db:
            self.db.execute("CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY,"
                            " seq INTEGER, user TEXT, title TEXT, body TEXT, level TEXT,"
                            " created_at REAL, expires_at REAL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS seq_of (user TEXT PRIMARY KEY,"
                            " seq INTEGER NOT NULL)")

    @cached_property
    def select_sql(self) -> str:
        return f"SELECT {', '.join(FIELDS)} FROM inbox WHERE user = ? ORDER BY seq"

    @cached_property
    def insert_sql(self) -> str:
        return f"INSERT INTO inbox ({', '.join(FIELDS)}) VALUES ({', '.join(':' + f for f in FIELDS)})"

    def _expire(self, now: float) -> None:
        self.db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self._expire(now)
            cur = self.db.execute("SELECT seq FROM seq_of WHERE user = ?", (user,))
            cur.row_factory = None  # a plain tuple here
            last = cur.fetchone()
            seq = 1 + (last[0] if last else 0)
            self.db.execute("REPLACE INTO seq_of (user, seq) VALUES (?, ?)", (user, seq))
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"],
                    "level": fields["level"], "created_at": now,
                    "expires_at": now + self.ttl_seconds}
            self.db.execute(self.insert_sql, note)
            rows = self.db.execute(self.select_sql, (user,)).fetchall()
            overflow = rows[: max(0, len(rows) - self.max_per_user)]
            self.db.executemany("DELETE FROM inbox WHERE id = ?",
                                [(r["id"],) for r in overflow])
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self.db:
            self._expire(time.time())
            rows = self.db.execute(self.select_sql, (user,)).fetchall()
        return sorted(rows, key=itemgetter("seq"))

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        removed = 0
        with self.db:
            for i in frozenset(ids):
                removed += self.db.execute("DELETE FROM inbox WHERE id = ? AND user = ?"
                                           " AND expires_at > ?", (i, user, now)).rowcount
        return removed

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.db.close()

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r}, ttl_seconds={self.ttl_seconds}, max_per_user={self.max_per_user})"


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
    # the route holds each tab for as long as it is open, so a weak set is enough
    live: defaultdict[str, WeakSet[WebSocket]] = defaultdict(WeakSet)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def deliver(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
            return True
        except Exception:
            return False

    async def push(user: str, note: dict[str, Any]) -> int:
        tabs = list(live[user])
        text = json.dumps({"type": "notification", **note})
        outcomes = await asyncio.gather(*(deliver(ws, text) for ws in tabs))
        for ws, ok in zip(tabs, outcomes, strict=True):
            if not ok:
                live[user].discard(ws)
        return outcomes.count(True)

    @events.on("notification.created", priority=EventPriority.HIGH)
    def fill_defaults(notice: dict[str, Any]) -> None:
        notice.update(validate(notice))

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def keep_and_push(notice: dict[str, Any]) -> None:
        async with locks[notice["user"]]:
            note = store.add(notice["user"], notice)
            notice.update(id=note["id"], seq=note["seq"],
                          delivered=await push(notice["user"], note))

    @events.on("notification.created", priority=EventPriority.LOW)
    def audit(notice: dict[str, Any]) -> None:
        log.info("audit: %s #%s", notice["user"], notice.get("seq"))

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads(bytes(await req.body).decode("utf-8"))
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": f"invalid JSON: {type(exc).__name__}"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", notice)
        if not result.ok or "id" not in notice:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json(dict(zip(("id", "seq", "delivered"),
                                 itemgetter("id", "seq", "delivered")(notice))), status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                live[user].add(ws)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except WebSocketDisconnect:
            pass
        finally:
            live[user].discard(ws)

    return app
