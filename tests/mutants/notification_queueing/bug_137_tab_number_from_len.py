"""Bug: each open tab is filed under the number len(user's tabs) at the moment it joins, so after one tab has left, the next tab to join reuses the number of a tab still open and replaces it.

Breaks: "Every open tab of the user receives every live notification." ... ann opens tabs A (number 0) and B (number 1), closes A, then opens C: C gets number len({1: B}) == 1 and overwrites B, so a notification posted now reaches only C (`delivered` 1 instead of 2) and B, still open, never gets it.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
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


def _lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is missing")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be a string of 1-{MAX_TITLE} characters")
    if title.strip() == "":
        raise ValueError("title is only whitespace")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    if _lone_surrogate(title) or _lone_surrogate(body):
        raise ValueError("title and body must not hold a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("only text frames are accepted")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str) or frame["type"] != "ack":
        raise ValueError('expected an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_lone_surrogate(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO last_seq VALUES (?, 1) ON CONFLICT(user) DO UPDATE SET seq = seq + 1",
                (user,))
            seq = self.db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()[0]
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user, "title": fields["title"],
                    "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.db.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            tuple(note[f] for f in FIELDS))
            self.db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM queue WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM queue"
                " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        unique = list(dict.fromkeys(ids))
        now = time.time()
        acked = 0
        with self.db:
            for i in range(0, len(unique), 400):
                part = unique[i:i + 400]
                cur = self.db.execute(
                    "DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN (%s)"
                    % ",".join("?" * len(part)), (user, now, *part))
                acked += cur.rowcount
        return acked


class Hub:
    """The live tabs, numbered per user, and one lock per user."""

    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self.tabs: dict[str, dict[int, WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def join(self, user: str, ws: WebSocket) -> int:
        mine = self.tabs.setdefault(user, {})
        number = len(mine)  # tab 0, tab 1, ...
        mine[number] = ws
        return number

    def leave(self, user: str, number: int) -> None:
        mine = self.tabs.get(user, {})
        mine.pop(number, None)
        if not mine:
            self.tabs.pop(user, None)

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)

    async def _push_one(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await self.send(ws, frame)
            return True
        except Exception:  # noqa: BLE001 - failed or too slow: a dead tab
            return False

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        mine = self.tabs.get(user, {})
        numbered = list(mine.items())
        results = await asyncio.gather(*(self._push_one(ws, frame) for _, ws in numbered))
        for (number, ws), ok in zip(numbered, results):
            if not ok and mine.get(number) is ws:
                del mine[number]
        return sum(results)


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
    hub = Hub(send_timeout)
    seen = {"count": 0}

    def with_defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        async with hub.lock(note["user"]):
            stored = store.add(note["user"], note)
            note.update(stored)
            note["delivered"] = await hub.push(note["user"], {"type": "notification", **stored})

    def audit(note: dict[str, Any]) -> None:
        seen["count"] += 1

    app.events.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
            note = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "bad JSON"}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "bad user name"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        number = None
        try:
            async with hub.lock(user):
                rows = store.pending(user)
                for row in rows:
                    await hub.send(ws, {"type": "notification", **row})
                await hub.send(ws, {"type": "backlog_end", "count": len(rows)})
                number = hub.join(user, ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await hub.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await hub.send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - the client went away
            return
        finally:
            if number is not None:
                hub.leave(user, number)

    return app
