"""Bug: the WebSocket route checks the user name with its own inline pattern `[\\w.-]{1,32}`, which in Python also matches non-ASCII letters and digits, while POST uses NAME.

Breaks: "`user` | 1-32 characters of `[A-Za-z0-9_.-]`, nothing else" and "a bad user name gets `{"type": "error", "code": "bad_request", "message": ...}` and close code **4400**" ... connecting to `/notifications/%C3%A9` (user "é") or `/notifications/caf%C3%A9` gets an empty backlog and `backlog_end` and stays open, instead of the bad_request error and close code 4400.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
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
CHUNK = 500  # ids per SQL statement (SQLite limits bound variables)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _text(data: dict[str, Any], field: str, limit: int, *, default: str | None = None) -> str:
    if field not in data:
        if default is None:
            raise ValueError(f"{field} is required")
        return default
    value = data[field]
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    if len(value) > limit:
        raise ValueError(f"{field} must be at most {limit} characters")
    if _has_surrogate(value):
        raise ValueError(f"{field} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is required")
    user = data["user"]
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = _text(data, "title", MAX_TITLE)
    if not title or title.isspace():
        raise ValueError("title must not be empty or only whitespace")
    body = _text(data, "body", MAX_BODY, default="")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict):
        raise ValueError("not a WebSocket message")
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object with "type": "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self.db.execute("CREATE INDEX IF NOT EXISTS notes_user ON notes (user, seq)")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        now = time.time()
        with self.db:
            self._purge(now)
            self.db.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            note = {
                "id": uuid.uuid4().hex, "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl,
            }
            self.db.execute(
                f"INSERT INTO notes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                tuple(note[c] for c in COLUMNS),
            )
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.cap, 0)),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self.db:
            self._purge(now)
            rows = self.db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notes WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        count = 0
        with self.db:
            for start in range(0, len(wanted), CHUNK):
                chunk = wanted[start:start + CHUNK]
                marks = ", ".join("?" * len(chunk))
                cur = self.db.execute(
                    f"DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk),
                )
                count += cur.rowcount
        return count


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = defaultdict(list)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit: dict[str, int] = defaultdict(int)

    async def send(ws: WebSocket, frame: dict[str, Any], timeout: float = SEND_TIMEOUT) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), timeout)
        except Exception:
            return False
        return True

    async def push(user: str, frame: dict[str, Any]) -> int:
        tabs = list(live.get(user, ()))
        if not tabs:
            return 0
        results = await asyncio.gather(*(send(ws, frame, send_timeout) for ws in tabs))
        for ws, ok in zip(tabs, results):
            if not ok and ws in live[user]:
                live[user].remove(ws)
        return sum(results)

    @events.on("notification.created", priority=EventPriority.HIGH)
    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            row = store.add(user, note)
            note.update(row)
            note["delivered"] = await push(user, {"type": "notification", **row})

    @events.on("notification.created", priority=EventPriority.LOW)
    def count(note: dict[str, Any]) -> None:
        audit[note["user"]] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", note)
        if "seq" not in note:
            error = str(result.errors[0]) if result.errors else "not stored"
            return res.json({"error": error}, status_code=422)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or not re.fullmatch(r"[\w.-]{1,32}", user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with locks[user]:
                rows = store.pending(user)
                for row in rows:
                    if not await send(ws, {"type": "notification", **row}, send_timeout):
                        return
                if not await send(ws, {"type": "backlog_end", "count": len(rows)}, send_timeout):
                    return
                live[user].append(ws)
                joined = True
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            return  # the client left: not an error
        finally:
            if joined and ws in live.get(user, ()):
                live[user].remove(ws)

    return app
