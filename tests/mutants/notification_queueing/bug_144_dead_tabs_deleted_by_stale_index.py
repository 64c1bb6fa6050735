"""Bug: after a push, the tabs whose send failed are deleted from the user's list by their positions, in ascending order, so once two tabs fail in the same push the second deletion hits a shifted index: a live tab is dropped and a dead one stays.

Breaks: "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab from the live ones: no later push tries it" and "Every open tab of the user receives every live notification." ... ann has tabs [D1, D2, OK] where D1 and D2 start failing: the next push deletes index 0 (D1), then index 1, which is now OK; from then on OK gets no live notification (`delivered` 0) while D2 is still tried on every push.
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


def _text_ok(s: str) -> bool:
    try:
        s.encode("utf-8", "strict")
        return True
    except UnicodeEncodeError:
        return False


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the request body must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("invalid user")
    if "title" not in data:
        raise ValueError("missing title")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError("title must have between 1 and 200 characters")
    if title.strip() == "":
        raise ValueError("title must contain a non-whitespace character")
    if not _text_ok(title):
        raise ValueError("title is not valid text")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError("body must have at most 2000 characters")
    if not _text_ok(body):
        raise ValueError("body is not valid text")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict):
        raise ValueError("not a message")
    if message.get("text") is None:
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(message["text"])
    except (TypeError, ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str) \
            or frame["type"] != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not isinstance(item, str) or not _text_ok(item):
            raise ValueError("every id must be a string")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        with self.conn:
            self.conn.executescript(
                "CREATE TABLE IF NOT EXISTS inbox ("
                " id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,"
                " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL);"
                "CREATE TABLE IF NOT EXISTS seq_counter ("
                " user TEXT PRIMARY KEY, last INTEGER NOT NULL);")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.conn:
            self.conn.execute(
                "INSERT INTO seq_counter (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1", (user,))
            seq = self.conn.execute(
                "SELECT last FROM seq_counter WHERE user = ?", (user,)).fetchone()["last"]
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.conn.execute(
                "INSERT INTO inbox (id, user, seq, title, body, level, created_at, expires_at)"
                " VALUES (:id, :user, :seq, :title, :body, :level, :created_at, :expires_at)",
                note)
            self.conn.execute("DELETE FROM inbox WHERE user = ? AND expires_at <= ?", (user, now))
            self.conn.execute(
                "DELETE FROM inbox WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM inbox WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM inbox WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM inbox"
                " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = list(dict.fromkeys(ids))
        now = time.time()
        total = 0
        with self.conn:
            for lo in range(0, len(distinct), 500):
                chunk = distinct[lo:lo + 500]
                total += self.conn.execute(
                    "DELETE FROM inbox WHERE user = ? AND expires_at > ? AND id IN (%s)"
                    % ",".join("?" * len(chunk)), (user, now, *chunk)).rowcount
        return total


class Room:
    """The live tabs of one user, in the order they joined."""

    def __init__(self, send_timeout: float) -> None:
        self.members: list[WebSocket] = []
        self.lock = asyncio.Lock()
        self.send_timeout = send_timeout

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)

    async def _one(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await self.send(ws, frame)
        except Exception:  # noqa: BLE001 - failed or stalled
            return False
        return True

    async def broadcast(self, frame: dict[str, Any]) -> int:
        results = await asyncio.gather(*(self._one(ws, frame) for ws in self.members))
        failed = [i for i, ok in enumerate(results) if not ok]
        for i in failed:
            del self.members[i]
        return len(results) - len(failed)

    def leave(self, ws: WebSocket) -> None:
        if ws in self.members:
            self.members.remove(ws)


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
    rooms: dict[str, Room] = {}
    audit_log: list[str] = []

    def room(user: str) -> Room:
        if user not in rooms:
            rooms[user] = Room(send_timeout)
        return rooms[user]

    def defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        r = room(note["user"])
        async with r.lock:
            stored = store.add(note["user"], note)
            note.update(stored)
            note["delivered"] = await r.broadcast({"type": "notification", **stored})

    def audit(note: dict[str, Any]) -> None:
        audit_log.append(note["id"])

    app.events.on("notification.created", defaults, priority=EventPriority.HIGH)
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
                                           "message": "invalid user name"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        r = room(user)
        try:
            async with r.lock:
                backlog = store.pending(user)
                for note in backlog:
                    await r.send(ws, {"type": "notification", **note})
                await r.send(ws, {"type": "backlog_end", "count": len(backlog)})
                r.members.append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await r.send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await r.send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - the tab went away
            pass
        finally:
            r.leave(ws)

    return app
