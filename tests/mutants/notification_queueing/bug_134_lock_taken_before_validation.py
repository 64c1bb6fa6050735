"""Bug: the route takes the per-user lock with locks[data["user"]] before validating the body, so a body that is not an object, has no user, or has an unhashable user raises TypeError or KeyError outside the try and answers 500.

Breaks: "Never a 500 and never a traceback, whatever the body holds." ... POST `{"title": "hi"}` (no user), `[]` or `{"user": ["ann"], "title": "hi"}` gets a 500 Internal Server Error instead of 422 {"error": ...}.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
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


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    state: dict[str, Any] = {"tabs": {}, "locks": {}, "created": 0}

    def lock(user: str) -> asyncio.Lock:
        locks: dict[str, asyncio.Lock] = state["locks"]
        if user not in locks:
            locks[user] = asyncio.Lock()
        return locks[user]

    def tabs_of(user: str) -> set[Any]:
        return state["tabs"].setdefault(user, set())

    async def send(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
            return True
        except Exception:
            return False

    def defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        # the route holds the user's lock: store, then push, before the next one
        stored = store.add(note["user"], note)
        note.update(stored)
        targets = list(tabs_of(note["user"]))
        frame = {"type": "notification", **stored}
        reached = await asyncio.gather(*(send(ws, frame) for ws in targets))
        for ws, ok in zip(targets, reached):
            if not ok:
                tabs_of(note["user"]).discard(ws)
        note["delivered"] = sum(reached)

    def audit(note: dict[str, Any]) -> None:
        state["created"] += 1

    app.events.on("notification.created", defaults, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        async with lock(data["user"]):  # one notification of a user at a time: seq order
            try:
                note: dict[str, Any] = validate(data)
            except ValueError as exc:
                return res.json({"error": str(exc)}, status_code=422)
            await app.events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=422)
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
        try:
            last, count = 0, 0
            while True:
                rows = [n for n in store.pending(user) if n["seq"] > last]
                if not rows:
                    async with lock(user):
                        rows = [n for n in store.pending(user) if n["seq"] > last]
                        if not rows:
                            if not await send(ws, {"type": "backlog_end", "count": count}):
                                return
                            tabs_of(user).add(ws)
                            break
                for note in rows:
                    if not await send(ws, {"type": "notification", **note}):
                        return
                    last, count = note["seq"], count + 1
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            return
        finally:
            tabs_of(user).discard(ws)

    return app
