"""Style: SQLite does the bookkeeping (ids from randomblob, seq from an UPSERT ... RETURNING counter, the cap as one ranked DELETE, acks through json_each without chunking), validation is a table of rules, and create_app wires closures.

Follows: "A default is for a **missing** field only" and the field table (RULES: one check per field, the default only when the key is absent; validate runs in the route before the emit, so "a refused notification is never stored and uses no `seq`"); "Never a 500 and never a traceback, whatever the body holds." (strict UTF-8 decode; ValueError and RecursionError from json.loads are 422); "its listeners run by priority: **HIGH** validate/enrich (defaults), **MEDIUM** store and push to every open tab of the user, **LOW** audit" (enrich, store_and_push, audit); "`seq` increases by one per user and is never reused, not even after acknowledgements, expiry or a restart" (a counters table bumped by UPSERT ... RETURNING, never MAX(seq)); "when a new one would exceed the cap, the **oldest (lowest seq) is dropped**" (one DELETE of every row at or below the (max_per_user+1)-th newest seq); "it is expired once `expires_at <= time.time()`" (reads and acks filter on the stored expires_at); "an id given twice counts once" and "The list has no length limit" (one DELETE ... AND id IN (SELECT value FROM json_each(?)) filtered on user and expires_at, whatever the list's length); "a notification is committed to SQLite before it is pushed" and "Only after `backlog_end` may live notifications arrive" (one asyncio.Lock per user around store+push and around backlog+join); "drops that tab from the live ones: no later push tries it" (asyncio.wait_for per tab, gathered; a failed tab is removed under its own never-reused number); "the connection **stays open**" and "A normal disconnect is not an error" (bad frames answer bad_frame and emit ws.error; any send error or disconnect ends the handler quietly).
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import re
import sqlite3
import time
from collections.abc import Callable
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

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_MISSING = object()


def _text(value: Any) -> bool:
    return isinstance(value, str) and _LONE_SURROGATE.search(value) is None


# field, default when missing (_MISSING: required), check, what is wrong
RULES: tuple[tuple[str, Any, Callable[[Any], bool], str], ...] = (
    ("user", _MISSING,
     lambda v: isinstance(v, str) and NAME.fullmatch(v) is not None,
     "user must be 1-32 characters of [A-Za-z0-9_.-]"),
    ("title", _MISSING,
     lambda v: _text(v) and 1 <= len(v) <= MAX_TITLE and not v.isspace(),
     f"title must be text of 1-{MAX_TITLE} characters, not only whitespace"),
    ("body", "",
     lambda v: _text(v) and len(v) <= MAX_BODY,
     f"body must be text of at most {MAX_BODY} characters"),
    ("level", "normal",
     lambda v: isinstance(v, str) and v in LEVELS,
     "level must be exactly 'low', 'normal' or 'high'"),
)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    accepted: dict[str, str] = {}
    for name, default, check, problem in RULES:
        value = data.get(name, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise ValueError(f"{name} is required")
            value = default
        elif not check(value):
            raise ValueError(problem)
        accepted[name] = value
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str) \
            or frame["type"] != "ack":
        raise ValueError('the frame must be an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(_text(i) for i in ids):
        raise ValueError("ids must be a list of strings")
    return ids


_COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,"
                " UNIQUE (user, seq))")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, n INTEGER NOT NULL)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            (seq,) = self.db.execute(
                "INSERT INTO counters (user, n) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET n = n + 1 RETURNING n", (user,)).fetchone()
            row = self.db.execute(
                f"INSERT INTO notes ({_COLUMNS}) VALUES"
                " (lower(hex(randomblob(16))), ?, ?, ?, ?, ?, ?, ?)"
                f" RETURNING {_COLUMNS}",
                (seq, user, fields["title"], fields.get("body", ""),
                 fields.get("level", "normal"), now, now + self.ttl_seconds)).fetchone()
            note = dict(row)
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND seq <= (SELECT seq FROM notes"
                " WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.db.execute(
                f"SELECT {_COLUMNS} FROM notes WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self.db:
            return self.db.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT value FROM json_each(?))",
                (user, time.time(), json.dumps(ids))).rowcount


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, dict[int, WebSocket]] = {}
    locks: collections.defaultdict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
    tab_numbers = itertools.count()
    counts: collections.Counter[str] = collections.Counter()

    async def send(ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)

    async def reached(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await send(ws, frame)
        except Exception:  # noqa: BLE001 - failed or timed out: a dead tab
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            stored = store.add(user, note)  # committed before any push
            note.update(stored)
            frame = {"type": "notification", **stored}
            live = list(tabs.get(user, {}).items())
            oks = await asyncio.gather(*(reached(ws, frame) for _, ws in live))
            for (number, _), ok in zip(live, oks):
                if not ok:
                    tabs.get(user, {}).pop(number, None)
            note["delivered"] = sum(oks)

    def audit(note: dict[str, Any]) -> None:
        counts[note["level"]] += 1

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            note = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "user must be 1-32 of [A-Za-z0-9_.-]"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        number = next(tab_numbers)
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await send(ws, {"type": "notification", **note})
                await send(ws, {"type": "backlog_end", "count": len(backlog)})
                tabs.setdefault(user, {})[number] = ws
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - a disconnect (even mid-backlog) or a dead tab
            pass
        finally:
            mine = tabs.get(user)
            if mine is not None:
                mine.pop(number, None)
                if not mine:
                    tabs.pop(user, None)

    return app
