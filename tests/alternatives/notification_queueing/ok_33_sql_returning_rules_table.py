"""Style: table-driven validation (one rule per field) and a Store that lets SQLite do the work with `RETURNING` and `json_each`, served by closures over `defaultdict`s of locks and tab sets.

Follows: "A default is for a **missing** field only" (RULES holds each field's default, used only when the key is absent; a present field always goes through its check); "1-32 characters of `[A-Za-z0-9_.-]`, nothing else" (NAME.fullmatch); "text of 1-200 characters, not only whitespace", "Lengths count characters (`len(title)` in Python ...), as given" (len() of the raw string, isspace test, no strip or normalisation); "**nothing is stored** (no sequence number is used up)" (validation before the emit, the counter only moves inside Store.add); "`seq` increases by one per user and is never reused, not even after acknowledgements, expiry or a restart" (a counters table bumped with `UPDATE ... RETURNING`, never MAX(seq)); "the **oldest (lowest seq) is dropped**" (one DELETE keeps the newest `max_per_user` by rank, after expired rows are purged); "an id given twice counts once. Unknown ids, ids of **another user's** notifications, ids acknowledged before and ids that expired (even if not purged yet) count 0 and change nothing" (`DELETE ... id IN (SELECT value FROM json_each(?)) AND user = ? AND expires_at > ? RETURNING id`, no length limit); "**Backlog first.**", "then `{"type": "backlog_end", "count": K}`", "Only after `backlog_end` may live notifications arrive" (one lock per user around backlog + join and around store + push); "a notification is committed to SQLite before it is pushed" (Store.add commits before the push); "drops that tab from the live ones" (each send under its own `send_timeout`, failures leave the set); "the connection **stays open**" (parse_ack raises only ValueError, the loop goes on); "A normal disconnect is not an error" (a disconnect message ends the loop quietly).
"""

from __future__ import annotations

import asyncio
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
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_REQUIRED = object()


def _text(value: Any) -> bool:
    return isinstance(value, str) and not _LONE_SURROGATE.search(value)


def _user_ok(value: Any) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _title_ok(value: Any) -> bool:
    return _text(value) and 1 <= len(value) <= MAX_TITLE and not value.isspace()


def _body_ok(value: Any) -> bool:
    return _text(value) and len(value) <= MAX_BODY


def _level_ok(value: Any) -> bool:
    return isinstance(value, str) and value in LEVELS


# field -> (default or _REQUIRED, check, what a valid value is)
RULES: dict[str, tuple[Any, Callable[[Any], bool], str]] = {
    "user": (_REQUIRED, _user_ok, "1-32 characters of [A-Za-z0-9_.-]"),
    "title": (_REQUIRED, _title_ok, f"text of 1-{MAX_TITLE} characters, not only whitespace"),
    "body": ("", _body_ok, f"text of at most {MAX_BODY} characters"),
    "level": ("normal", _level_ok, "one of " + ", ".join(LEVELS)),
}


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    accepted: dict[str, str] = {}
    for field, (default, check, wanted) in RULES.items():
        if field not in data:
            if default is _REQUIRED:
                raise ValueError(f"{field} is required")
            accepted[field] = default
        elif check(data[field]):
            accepted[field] = data[field]
        else:
            raise ValueError(f"{field} must be {wanted}")
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text")
    if message.get("bytes") is not None or not isinstance(text, str):
        raise ValueError("frames are JSON text, not binary")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(frame, dict):
        raise ValueError("a frame is a JSON object")
    if not (isinstance(frame.get("type"), str) and frame["type"] == "ack"):
        raise ValueError('the only frame a client sends is {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(map(_text, ids)):
        raise ValueError("ids must be a list of strings")
    return ids


FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL, title TEXT NOT NULL,
    body TEXT NOT NULL, level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,
    UNIQUE (user, seq));
CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:  # one transaction: counter, row, purge and cap, then commit
            (seq,) = self.db.execute(
                "INSERT INTO counters VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET last = last + 1 RETURNING last", (user,)
            ).fetchone()
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"], "created_at": now,
                    "expires_at": now + self.ttl}
            self.db.execute(f"INSERT INTO notes ({', '.join(FIELDS)}) VALUES "
                            f"({', '.join(':' + f for f in FIELDS)})", note)
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM notes WHERE user = :user AND seq NOT IN "
                "(SELECT seq FROM notes WHERE user = :user ORDER BY seq DESC LIMIT :cap)",
                {"user": user, "cap": self.cap},
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.db.execute(
                f"SELECT {', '.join(FIELDS)} FROM notes WHERE user = ? AND expires_at > ? "
                "ORDER BY seq", (user, now)
            ).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self.db:
            gone = self.db.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at > ? "
                "AND id IN (SELECT value FROM json_each(?)) RETURNING id",
                (user, time.time(), json.dumps(ids)),
            ).fetchall()
        return len(gone)


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
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    live: defaultdict[str, set[WebSocket]] = defaultdict(set)
    counts: defaultdict[str, int] = defaultdict(int)

    async def reached(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    def with_defaults(note: dict[str, Any]) -> None:  # HIGH: the route validated already
        for field, (default, _, _) in RULES.items():
            note.setdefault(field, default)

    async def store_and_push(note: dict[str, Any]) -> None:  # MEDIUM
        user = note["user"]
        async with locks[user]:
            saved = store.add(user, note)  # committed before any push
            note.update(saved)
            tabs = list(live[user])
            frame = {"type": "notification", **saved}
            oks = await asyncio.gather(*(reached(ws, frame) for ws in tabs))
            live[user].difference_update(ws for ws, ok in zip(tabs, oks) if not ok)
            note["delivered"] = oks.count(True)

    def count_it(note: dict[str, Any]) -> None:  # LOW: audit
        counts[note["user"]] += 1

    bus.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", count_it, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            note: dict[str, Any] = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "bad JSON"}, status_code=422)
        await bus.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not _user_ok(user):
            await reached(ws, {"type": "error", "code": "bad_request",
                               "message": "a user is 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        async with locks[user]:
            backlog = store.pending(user)
            frames = [{"type": "notification", **n} for n in backlog]
            frames.append({"type": "backlog_end", "count": len(backlog)})
            for frame in frames:
                if not await reached(ws, frame):
                    return
            live[user].add(ws)
        try:
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await reached(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await reached(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the socket went away
        finally:
            live[user].discard(ws)

    return app
