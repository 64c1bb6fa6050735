"""Bug: a send that fails while the backlog is being sent is reported as a WebSocket error (the Node `ws.send(data, err => emitter.emit("error", err))` habit): a client that leaves in the middle of its backlog makes the app emit `ws.error`.

Breaks: "A normal disconnect is not an error: no `ws.error` and no traceback in the server's log, even when the client leaves in the middle of its backlog." ... ann has many stored notifications, opens a tab and closes it after the first frame: the rest of the backlog cannot be sent, and `ws.error` `{"user": "ann", "error": "backlog not delivered: ..."}` is emitted.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
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

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE or not title.strip():
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters, not only whitespace")
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _SURROGATE.search(title) or _SURROGATE.search(body):
        raise ValueError("title and body must not hold lone surrogates")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    if message.get("bytes") is not None:
        raise ValueError("binary frames are not accepted")
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("a frame must be JSON text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('a frame must be an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_SURROGATE.search(i) for i in ids):
        raise ValueError("ids must not hold lone surrogates")
    return ids


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def _purge(self, user: str, now: float) -> None:
        self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1)"
                " ON CONFLICT(user) DO UPDATE SET seq = seq + 1", (user,)
            )
            (seq,) = self.db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"], "created_at": now,
                    "expires_at": now + self.ttl_seconds}
            self.db.execute("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            tuple(note[c] for c in COLUMNS))
            self._purge(user, now)
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self._purge(user, now)
            rows = self.db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notes WHERE user = ? AND expires_at > ?"
                " ORDER BY seq", (user, now)
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self.db:
            for note_id in set(ids):
                cur = self.db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                )
                count += cur.rowcount
        return count


def frame_of(note: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notification", **{c: note[c] for c in COLUMNS}}


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit_log: list[tuple[str, int]] = []

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
            return True
        except Exception:
            return False

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_of(user):
            stored = store.add(user, note)
            note.update(stored)
            tabs = list(live.get(user, []))
            frame = frame_of(stored)
            results = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in live.get(user, []):
                    live[user].remove(ws)
            note["delivered"] = sum(results)

    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note["user"], note.get("seq", 0)))

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
            note = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await events.emit("notification.created", note)
        if not result.ok or "seq" not in note:
            return res.json({"error": str(result.errors[0]) if result.errors else "not stored"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        async with lock_of(user):
            notes = store.pending(user)
            for note in notes:
                try:
                    await asyncio.wait_for(ws.send_json(frame_of(note)), send_timeout)
                except Exception as exc:
                    await events.emit("ws.error", {"user": user,
                                                   "error": f"backlog not delivered: {exc!r}"})
                    return
            if not await send(ws, {"type": "backlog_end", "count": len(notes)}):
                return
            live.setdefault(user, []).append(ws)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = store.ack(user, ids)
                await send(ws, {"type": "acked", "count": count})
        except Exception:
            pass
        finally:
            tabs = live.get(user, [])
            if ws in tabs:
                tabs.remove(ws)

    return app
