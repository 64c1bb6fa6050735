"""Style: everything lives in closures inside create_app (no classes but the required Store); validation is a table of field rules, seq comes from an UPSERT ... RETURNING and ids are "user:seq".

Follows: "`user` | 1-32 characters of `[A-Za-z0-9_.-]`" / "`title` | text of 1-200 characters, not only
whitespace" / "`body` ... default `""`" / "`level` exactly ..." (the RULES table, each rule run only on a field
that is there, the default only for a missing one); "ids are unique; `seq` increases by one per user and is
never reused" (a counters row per user bumped with INSERT ... ON CONFLICT ... RETURNING in the same committed
transaction as the row; "user:seq" is then unique for good, as ':' is never in a user name); "the oldest
(lowest seq) is dropped" (rows past max_per_user, newest first, are deleted); "an id given twice counts once"
(dict.fromkeys, then executemany DELETE and its summed rowcount); "backlog first, then live" (a per-user
asyncio.Lock shared by the backlog and by store-and-push); "a push ... longer than `send_timeout` ... drops
that tab" (asyncio.wait_for per send, tabs kept in a per-user dict keyed by id(ws)).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from collections import defaultdict
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

_MISSING = object()


def _text(value: Any) -> bool:
    return isinstance(value, str) and not any("\ud800" <= c <= "\udfff" for c in value)


# field -> (default or _MISSING when required, is it valid?, what is wrong)
RULES: dict[str, tuple[Any, Callable[[Any], bool], str]] = {
    "user": (_MISSING, lambda v: isinstance(v, str) and NAME.fullmatch(v) is not None,
             "user must be 1-32 characters of [A-Za-z0-9_.-]"),
    "title": (_MISSING, lambda v: _text(v) and 0 < len(v) <= MAX_TITLE and not v.isspace(),
              f"title must be text of 1-{MAX_TITLE} characters, not only whitespace"),
    "body": ("", lambda v: _text(v) and len(v) <= MAX_BODY,
             f"body must be text of at most {MAX_BODY} characters"),
    "level": ("normal", lambda v: isinstance(v, str) and v in LEVELS,
              "level must be exactly 'low', 'normal' or 'high'"),
}


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    accepted: dict[str, str] = {}
    for field, (default, ok, problem) in RULES.items():
        value = data.get(field, _MISSING)
        if value is _MISSING:
            if default is _MISSING:
                raise ValueError(f"{field} is required")
            value = default
        elif not ok(value):
            raise ValueError(problem)
        accepted[field] = value
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("a frame must be JSON text, not binary")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('a frame must be an object whose type is "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(_text(i) for i in ids):
        raise ValueError("ids must be a list of strings")
    return ids


FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL);
CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds, self.max_per_user = ttl_seconds, max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
        with self.conn:
            self.conn.executescript(SCHEMA)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.conn:  # one transaction, committed on the way out
            self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            (seq,) = self.conn.execute(
                "INSERT INTO last_seq (user, seq) VALUES (?, 1) ON CONFLICT (user) DO UPDATE"
                " SET seq = seq + 1 RETURNING seq", (user,)).fetchone()
            note = {"id": f"{user}:{seq}", "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.conn.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              [note[f] for f in FIELDS])
            self.conn.execute(
                "DELETE FROM queue WHERE user = ? AND seq <= (SELECT seq FROM queue WHERE"
                " user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)", (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
        rows = self.conn.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM queue"
            " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now))
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self.conn:
            cur = self.conn.executemany(
                "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                [(i, user, now) for i in dict.fromkeys(ids)])
        return max(cur.rowcount, 0)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, dict[int, WebSocket]] = defaultdict(dict)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    counts: dict[str, int] = defaultdict(int)

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:  # noqa: BLE001 - failed or stalled: the caller drops the tab
            return False
        return True

    def with_defaults(note: dict[str, Any]) -> None:  # HIGH
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:  # MEDIUM
        user = note["user"]
        async with locks[user]:
            row = store.add(user, note)  # committed before any push
            note.update(row)
            frame = {"type": "notification", **row}
            tabs = dict(live[user])
            delivered = 0
            for key, ok in zip(tabs, await asyncio.gather(*(send(ws, frame)
                                                           for ws in tabs.values()))):
                if ok:
                    delivered += 1
                else:
                    live[user].pop(key, None)
            note["delivered"] = delivered

    def audit(note: dict[str, Any]) -> None:  # LOW
        counts[note["user"]] += 1

    bus.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": f"the body is not UTF-8 JSON ({type(exc).__name__})"},
                            status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await bus.emit("notification.created", note)
        if result.errors or "seq" not in note:
            return res.json({"error": str(result.errors[0]) if result.errors else "not stored"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        key = id(ws)
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for row in backlog:
                    if not await send(ws, {"type": "notification", **row}):
                        return
                if not await send(ws, {"type": "backlog_end", "count": len(backlog)}):
                    return
                live[user][key] = ws
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - the client went away: not an error
            pass
        finally:
            live[user].pop(key, None)

    return app
