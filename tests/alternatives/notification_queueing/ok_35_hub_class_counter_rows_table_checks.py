"""Style: table-driven validation (one checker per field), the seq counter kept as a "head" row in the same SQLite table as the notifications, and the live tabs held by a Hub class that numbers tabs with itertools.count and pushes with asyncio.wait.

Follows: "`user` | 1-32 characters of `[A-Za-z0-9_.-]`", "`title` | text of 1-200 characters, not only whitespace", "A default is for a **missing** field only" (a checker per field, defaults only when the key is absent, lone surrogates refused); "`seq` increases by one per user and is never reused, not even after acknowledgements, expiry or a restart" (a head row per user, bumped in the same transaction as the insert, never deleted); "the **oldest (lowest seq) is dropped**" (kind='note' rows past the newest max_per_user go); "it is expired once `expires_at <= time.time()`" (filtered on read, purged); "an id given twice counts once" and "ids of **another user's** notifications ... count 0" (DISTINCT ids, DELETE scoped to the user and unexpired rows, in chunks: no length limit); "Backlog first" (per-user lock around backlog + join and around store + push); "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab" (asyncio.wait_for per tab, failures leave the hub); "a notification is committed to SQLite before it is pushed"; bad frames get bad_frame + ws.error and the socket stays open.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
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
SEND_TIMEOUT = 2.0

_LONE = re.compile("[\ud800-\udfff]")
_MISSING = object()


def _text(value: Any) -> bool:
    return isinstance(value, str) and not _LONE.search(value)


def _check_user(value: Any) -> str | None:
    if isinstance(value, str) and NAME.fullmatch(value):
        return None
    return "user must be 1-32 characters of [A-Za-z0-9_.-]"


def _check_title(value: Any) -> str | None:
    if not _text(value) or not 1 <= len(value) <= MAX_TITLE or value.isspace():
        return f"title must be text of 1-{MAX_TITLE} characters, not only whitespace"
    return None


def _check_body(value: Any) -> str | None:
    if not _text(value) or len(value) > MAX_BODY:
        return f"body must be text of at most {MAX_BODY} characters"
    return None


def _check_level(value: Any) -> str | None:
    if isinstance(value, str) and value in LEVELS:
        return None
    return f"level must be exactly one of {', '.join(LEVELS)}"


#: field -> (checker, default or _MISSING when required)
FIELDS: dict[str, tuple[Callable[[Any], str | None], Any]] = {
    "user": (_check_user, _MISSING),
    "title": (_check_title, _MISSING),
    "body": (_check_body, ""),
    "level": (_check_level, "normal"),
}


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    accepted: dict[str, str] = {}
    for field, (check, default) in FIELDS.items():
        if field not in data:
            if default is _MISSING:
                raise ValueError(f"{field} is required")
            accepted[field] = default
            continue
        problem = check(data[field])
        if problem:
            raise ValueError(problem)
        accepted[field] = data[field]
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        if message.get("bytes") is not None or not isinstance(message.get("text"), str):
            raise ValueError("binary frames are not accepted")
        try:
            frame = json.loads(message["text"])
        except RecursionError:
            raise ValueError("the frame is nested too deep to parse") from None
        except ValueError as exc:
            raise ValueError(f"the frame is not JSON ({exc})") from None
        if not isinstance(frame, dict):
            raise ValueError("the frame must be a JSON object")
        if frame.get("type") != "ack":
            raise ValueError('the frame type must be "ack"')
        ids = frame.get("ids")
        if not isinstance(ids, list):
            raise ValueError("ids must be a list")
        for one in ids:
            if not _text(one):
                raise ValueError("ids must be strings")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # anything odd in the message is still a bad frame
        raise ValueError(f"unreadable frame ({type(exc).__name__})") from None


FIELDS_OUT = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
_SELECT = ", ".join(FIELDS_OUT)


class Store:
    """Notes and per-user counters share one table: kind 'head' rows hold the last seq."""

    CHUNK = 400

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.conn = sqlite3.connect(path, check_same_thread=False)
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS queue ("
                " id TEXT PRIMARY KEY, kind TEXT NOT NULL, user TEXT NOT NULL,"
                " seq INTEGER NOT NULL, title TEXT, body TEXT, level TEXT,"
                " created_at REAL, expires_at REAL)")
            self.conn.execute(
                "CREATE INDEX IF NOT EXISTS queue_by_user ON queue (kind, user, seq)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        head = f"head:{user}"
        with self.conn:
            self.conn.execute(
                "INSERT INTO queue (id, kind, user, seq) VALUES (?, 'head', ?, 1) "
                "ON CONFLICT(id) DO UPDATE SET seq = seq + 1", (head, user))
            (seq,) = self.conn.execute("SELECT seq FROM queue WHERE id = ?", (head,)).fetchone()
            note = {"id": f"n-{uuid.uuid4()}", "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": created, "expires_at": created + self.ttl_seconds}
            self.conn.execute(
                f"INSERT INTO queue (kind, {_SELECT}) VALUES ('note', ?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[f] for f in FIELDS_OUT))
            self.conn.execute(
                "DELETE FROM queue WHERE kind = 'note' AND user = ? AND expires_at <= ?",
                (user, created))
            self.conn.execute(
                "DELETE FROM queue WHERE kind = 'note' AND user = ? AND id NOT IN ("
                " SELECT id FROM queue WHERE kind = 'note' AND user = ?"
                " ORDER BY seq DESC LIMIT ?)", (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self.conn.execute(
                "DELETE FROM queue WHERE kind = 'note' AND user = ? AND expires_at <= ?",
                (user, now))
            rows = self.conn.execute(
                f"SELECT {_SELECT} FROM queue WHERE kind = 'note' AND user = ?"
                " AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(FIELDS_OUT, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = list(dict.fromkeys(i for i in ids if isinstance(i, str)))
        now = time.time()
        done = 0
        with self.conn:
            for start in range(0, len(distinct), self.CHUNK):
                part = distinct[start:start + self.CHUNK]
                marks = ",".join("?" for _ in part)
                done += self.conn.execute(
                    f"DELETE FROM queue WHERE kind = 'note' AND user = ? AND expires_at > ?"
                    f" AND id IN ({marks})", (user, now, *part)).rowcount
        return done


class Hub:
    """The live tabs of every user, by tab number, and one lock per user."""

    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self.tabs: dict[str, dict[int, WebSocket]] = defaultdict(dict)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.numbers = itertools.count(1)

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
        except Exception:  # failed, timed out, closed: all the same to the caller
            return False
        return True

    def join(self, user: str, ws: WebSocket) -> int:
        number = next(self.numbers)
        self.tabs[user][number] = ws
        return number

    def leave(self, user: str, number: int) -> None:
        self.tabs[user].pop(number, None)

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        current = dict(self.tabs[user])
        if not current:
            return 0
        tasks = {number: asyncio.ensure_future(self.send(ws, frame))
                 for number, ws in current.items()}
        await asyncio.wait(tasks.values())
        reached = 0
        for number, task in tasks.items():
            if task.result():
                reached += 1
            else:
                self.leave(user, number)  # dropped: no later push tries it
        return reached


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    hub = Hub(send_timeout)
    seen = {"created": 0}

    def with_defaults(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_then_push(note: dict[str, Any]) -> None:
        async with hub.locks[note["user"]]:
            saved = store.add(note["user"], note)  # committed before any push
            note["id"], note["seq"] = saved["id"], saved["seq"]
            note["delivered"] = await hub.push(note["user"], {"type": "notification", **saved})

    def audit(note: dict[str, Any]) -> None:
        seen["created"] += 1

    bus.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    bus.on("notification.created", store_then_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            note: dict[str, Any] = validate(json.loads(raw.decode("utf-8")))
        except RecursionError:
            return res.json({"error": "the JSON is nested too deep"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        outcome = await bus.emit("notification.created", note)
        if "seq" not in note:
            why = str(outcome.errors[0]) if outcome.errors else "not stored"
            return res.json({"error": why}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "bad user name"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:  # the client left already
                pass
            return
        async with hub.locks[user]:
            backlog = store.pending(user)
            for note in backlog:
                if not await hub.send(ws, {"type": "notification", **note}):
                    return
            if not await hub.send(ws, {"type": "backlog_end", "count": len(backlog)}):
                return
            number = hub.join(user, ws)
        try:
            while True:
                message = await ws.receive()
                if message["type"] != "websocket.receive":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await hub.send(ws, {"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await hub.send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # a connection that broke mid-way is a disconnect too
            return
        finally:
            hub.leave(user, number)

    return app
