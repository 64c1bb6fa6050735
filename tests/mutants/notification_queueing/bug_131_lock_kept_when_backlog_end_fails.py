"""Bug: the WebSocket route takes the user's lock with acquire() for its last step (the final check, backlog_end, joining the live tabs) and returns without release() when the backlog_end send fails or times out, so the lock stays held for good.

Breaks: "**Dead tabs:** a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab from the live ones: no later push tries it (so a stalled tab costs at most one `send_timeout`), and the notification stays stored until acknowledged, so it comes again in the next backlog." ... a tab of ann that stalls (or fails, or leaves) just as backlog_end is sent is given up after send_timeout, but every later POST for ann, and every new tab of ann, then waits forever on the lock that was never released.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
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

FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _has_surrogate(title) or _has_surrogate(body):
        raise ValueError("title and body must not hold lone surrogates")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of 'low', 'normal', 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('a frame must be an object whose type is "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_has_surrogate(i) for i in ids):
        raise ValueError("ids must not hold lone surrogates")
    return ids


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
                " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )

    def _purge(self, now: float) -> None:
        self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock, self._db:
            now = time.time()
            row = self._db.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            self._db.execute(
                "INSERT INTO counters (user, last) VALUES (?, ?)"
                " ON CONFLICT(user) DO UPDATE SET last = excluded.last",
                (user, seq),
            )
            note = {
                "id": uuid.uuid4().hex, "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds,
            }
            self._db.execute(
                f"INSERT INTO notes ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})",
                tuple(note[k] for k in FIELDS),
            )
            self._purge(now)
            self._db.execute(
                "DELETE FROM notes WHERE user = ? AND id NOT IN"
                " (SELECT id FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.max_per_user, 0)),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._lock, self._db:
            now = time.time()
            self._purge(now)
            rows = self._db.execute(
                f"SELECT {', '.join(FIELDS)} FROM notes WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        count = 0
        with self._lock, self._db:
            now = time.time()
            for note_id in set(ids):
                cur = self._db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                )
                count += cur.rowcount
        return count


@dataclass
class Channel:
    """One user's live side: the open tabs, and the lock that orders store+push and joins."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    tabs: set[Any] = field(default_factory=set)


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
    channels: defaultdict[str, Channel] = defaultdict(Channel)
    audit_log: list[tuple[str, int]] = []

    async def send(ws: Any, frame: dict[str, Any]) -> bool:
        """Send one frame within send_timeout; False if it failed or timed out."""
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        channel = channels[note["user"]]
        async with channel.lock:
            stored = store.add(note["user"], note)  # committed before any push
            note.update(stored)
            frame = {"type": "notification", **stored}
            tabs = list(channel.tabs)
            reached = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, reached):
                if not ok:
                    channel.tabs.discard(ws)
            note["delivered"] = sum(reached)

    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note["user"], note.get("delivered", 0)))

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body must be a JSON object in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await app.events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": str(result.errors[0]) if result.errors else "not stored"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        channel = channels[user]
        # the backlog is sent without the lock; anything stored meanwhile is caught up
        # with, and the last check, backlog_end and joining happen under the lock
        last_seq, count = 0, 0
        while True:
            for note in [n for n in store.pending(user) if n["seq"] > last_seq]:
                if not await send(ws, {"type": "notification", **note}):
                    return
                last_seq, count = note["seq"], count + 1
            await channel.lock.acquire()
            if any(n["seq"] > last_seq for n in store.pending(user)):
                channel.lock.release()
                continue  # a POST came in during the backlog: send it first
            if not await send(ws, {"type": "backlog_end", "count": count}):
                return
            channel.tabs.add(ws)
            channel.lock.release()
            break
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the client went away while we answered it: not an error
        finally:
            channel.tabs.discard(ws)

    return app
