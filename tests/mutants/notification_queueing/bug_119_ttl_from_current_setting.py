"""Bug: the store decides expiry with ``created_at > now - ttl_seconds`` using the ttl of the running app instead of the stored ``expires_at``, so after a restart with a longer ttl_seconds, notifications whose expires_at has passed are still delivered (and acking them counts).

Breaks: "**TTL:** a notification older than `ttl_seconds` is never delivered and is purged: it is expired once `expires_at <= time.time()`." and "ids that expired (even if not purged yet) count 0" ... stored with ttl_seconds=0.3, app restarted on the same db_path with ttl_seconds=3600, 0.5 s later ann connects: her backlog holds the notification although its expires_at is already in the past, and acking it answers count 1.
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
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"


def _surrogate_free(s: str) -> bool:
    try:
        s.encode("utf-8", "strict")
        return True
    except UnicodeEncodeError:
        return False


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if not isinstance(data.get("user"), str) or NAME.fullmatch(data["user"]) is None:
        raise ValueError("'user' must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data or not isinstance(data["title"], str):
        raise ValueError("'title' is required and must be a string")
    title: str = data["title"]
    if len(title) == 0 or len(title) > MAX_TITLE:
        raise ValueError(f"'title' must be 1-{MAX_TITLE} characters")
    if title.strip() == "":
        raise ValueError("'title' must not be blank")
    if not _surrogate_free(title):
        raise ValueError("'title' is not valid text")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"'body' must be a string of at most {MAX_BODY} characters")
    if not _surrogate_free(body):
        raise ValueError("'body' is not valid text")
    level = data["level"] if "level" in data else "normal"
    if not any(level == name and isinstance(level, str) for name in LEVELS):
        raise ValueError("'level' must be exactly low, normal or high")
    return {"user": data["user"], "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not allowed")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("frame nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"frame is not JSON: {exc}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("'ids' must be a list")
    if not all(isinstance(i, str) and _surrogate_free(i) for i in ids):
        raise ValueError("'ids' must hold strings only")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    Thread-safe (one lock), so the app can call it from worker threads.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER,"
                             " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL,"
                             " expires_at REAL)")
            self._db.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY,"
                             " seq INTEGER NOT NULL)")

    def _cutoff(self) -> float:
        """Rows created at or before this moment are older than ttl_seconds: expired."""
        return time.time() - self.ttl_seconds

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock, self._db:
            self._db.execute("DELETE FROM notes WHERE created_at <= ?", (self._cutoff(),))
            row = self._db.execute("SELECT seq FROM seqs WHERE user = ?", (user,)).fetchone()
            seq = row[0] + 1 if row else 1
            self._db.execute("REPLACE INTO seqs (user, seq) VALUES (?, ?)", (user, seq))
            now = time.time()
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"], "created_at": now,
                    "expires_at": now + self.ttl_seconds}
            self._db.execute(f"INSERT INTO notes ({COLUMNS}) VALUES (:id, :seq, :user, :title,"
                             " :body, :level, :created_at, :expires_at)", note)
            over = self._db.execute("SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC"
                                    " LIMIT 1 OFFSET ?", (user, self.max_per_user)).fetchone()
            if over is not None:
                self._db.execute("DELETE FROM notes WHERE user = ? AND seq <= ?", (user, over[0]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        names = [c.strip() for c in COLUMNS.split(",")]
        with self._lock, self._db:
            cutoff = self._cutoff()
            self._db.execute("DELETE FROM notes WHERE created_at <= ?", (cutoff,))
            rows = self._db.execute(f"SELECT {COLUMNS} FROM notes WHERE user = ? AND"
                                    " created_at > ? ORDER BY seq", (user, cutoff)).fetchall()
        return [dict(zip(names, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self._lock, self._db:
            cutoff = self._cutoff()
            return sum(self._db.execute("DELETE FROM notes WHERE id = ? AND user = ? AND"
                                        " created_at > ?", (i, user, cutoff)).rowcount
                       for i in frozenset(ids))


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``, ``POST /notifications``
    and the ``/notifications/{user}`` WebSocket route."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = {}
    gates: dict[str, asyncio.Lock] = {}
    created_per_level = dict.fromkeys(LEVELS, 0)

    def gate(user: str) -> asyncio.Lock:
        if user not in gates:
            gates[user] = asyncio.Lock()
        return gates[user]

    def drop(user: str, ws: WebSocket) -> None:
        if ws in live.get(user, []):
            live[user].remove(ws)

    async def try_send(user: str, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            drop(user, ws)
            return False
        return True

    def defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with gate(user):
            fields = {"title": note["title"], "body": note["body"], "level": note["level"]}
            stored = await asyncio.to_thread(store.add, user, fields)
            note.update(stored)
            frame = {"type": "notification", **stored}
            oks = await asyncio.gather(*[try_send(user, ws, frame) for ws in list(live.get(user, []))])
            note["delivered"] = sum(1 for ok in oks if ok)

    def audit(note: dict[str, Any]) -> None:
        created_per_level[note["level"]] += 1

    events.on("notification.created", defaults, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        body = await req.body
        try:
            data = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "body is not valid UTF-8 JSON"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications_ws(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with gate(user):
                backlog = await asyncio.to_thread(store.pending, user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                live.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = await asyncio.to_thread(store.ack, user, ids)
                await ws.send_json({"type": "acked", "count": count})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            drop(user, ws)

    return app
