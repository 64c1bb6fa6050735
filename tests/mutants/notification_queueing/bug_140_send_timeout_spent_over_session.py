"""Bug: each live tab gets one send_timeout of waiting for its whole session (every live push spends from the same allowance), so a tab that reads slowly but within send_timeout on every single push is dropped after a few pushes.

Breaks: "A tab that reads slowly but within `send_timeout` is not dead: it counts and gets everything" and "`send_timeout` bounds each send" ... with send_timeout=1.0 and a tab whose every send takes 0.4 s, the first two live pushes reach it (delivered 1), the third one is cut off after the 0.2 s left of the allowance, the tab is dropped, and that and every later push report delivered 0 and never reach it.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
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


def _surrogate_free(text: str) -> bool:
    return not any("\ud800" <= c <= "\udfff" for c in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    user, title = data.get("user"), data.get("title")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not title or len(title) > MAX_TITLE or not title.strip():
        raise ValueError(f"title must be 1-{MAX_TITLE} characters, not all whitespace")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    if not (_surrogate_free(title) and _surrogate_free(body)):
        raise ValueError("lone surrogate in title or body")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict):
        raise ValueError("not a message")
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not allowed")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if not isinstance(frame, dict) or type(frame.get("type")) is not str or frame["type"] != "ack":
        raise ValueError('frame must be {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _surrogate_free(i) for i in ids):
        raise ValueError("ids must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.con = sqlite3.connect(path, check_same_thread=False)
        self.con.row_factory = sqlite3.Row
        with self.con:
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS pending (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self.con.execute(
                "CREATE TABLE IF NOT EXISTS counter (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.con:
            self.con.execute(
                "INSERT INTO counter VALUES (?, 1) ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,))
            seq = self.con.execute("SELECT seq FROM counter WHERE user = ?", (user,)).fetchone()[0]
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.con.execute(
                "INSERT INTO pending VALUES (:id, :seq, :user, :title, :body, :level,"
                " :created_at, :expires_at)", note)
            self.con.execute("DELETE FROM pending WHERE user = ? AND expires_at <= ?", (user, now))
            self.con.execute(
                "DELETE FROM pending WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM pending WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.con:
            self.con.execute("DELETE FROM pending WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.con.execute(
                "SELECT * FROM pending WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [dict(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = list(dict.fromkeys(ids))
        now = time.time()
        n = 0
        with self.con:
            while distinct:
                chunk, distinct = distinct[:500], distinct[500:]
                n += self.con.execute(
                    "DELETE FROM pending WHERE user = ? AND expires_at > ? AND id IN (%s)"
                    % ",".join("?" * len(chunk)), (user, now, *chunk)).rowcount
        return n


@dataclass(eq=False)
class Tab:
    """One open WebSocket of a user, while it is live."""

    user: str
    ws: WebSocket
    allowance: float  # seconds this tab may still keep a push waiting
    alive: bool = field(default=True)

    async def send(self, frame: dict[str, Any], timeout: float) -> None:
        await asyncio.wait_for(self.ws.send_text(json.dumps(frame)), timeout)

    async def push(self, frame: dict[str, Any]) -> bool:
        """A live push: a stalled tab costs at most one send_timeout, then it is dead."""
        started = time.monotonic()
        try:
            await self.send(frame, max(self.allowance, 0.0))
        except Exception:  # noqa: BLE001 - failed or out of time
            self.alive = False
            return False
        finally:
            self.allowance -= time.monotonic() - started
        return True


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
    tabs: dict[str, list[Tab]] = {}
    locks: dict[str, asyncio.Lock] = {}
    stats = {"created": 0}

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_of(user):
            stored = store.add(user, note)
            note.update(stored)
            live = [t for t in tabs.get(user, []) if t.alive]
            frame = {"type": "notification", **stored}
            results = await asyncio.gather(*(t.push(frame) for t in live))
            tabs[user] = [t for t in tabs.get(user, []) if t.alive]
            note["delivered"] = sum(results)

    def audit(note: dict[str, Any]) -> None:
        stats["created"] += 1

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
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "user must be 1-32 of [A-Za-z0-9_.-]"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        tab = Tab(user, ws, allowance=send_timeout)
        try:
            async with lock_of(user):
                backlog = store.pending(user)
                for note in backlog:
                    await tab.send({"type": "notification", **note}, send_timeout)
                await tab.send({"type": "backlog_end", "count": len(backlog)}, send_timeout)
                tabs.setdefault(user, []).append(tab)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await tab.send({"type": "error", "code": "bad_frame", "message": str(exc)},
                                   send_timeout)
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await tab.send({"type": "acked", "count": store.ack(user, ids)}, send_timeout)
        except Exception:  # noqa: BLE001 - gone or broken: nothing to report
            pass
        finally:
            tab.alive = False
            if tab in tabs.get(user, []):
                tabs[user].remove(tab)
            if not tabs.get(user):
                tabs.pop(user, None)

    return app
