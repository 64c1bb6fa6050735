"""Exercise 4: notification_queueing.

Closures over per-app state, and validation only in the HIGH listener: the route parses the
body, emits `notification.created` with the client's object, and answers 422 from the
emit's ValueError when the HIGH listener refused it. The Store keeps a per-user counter
row and runs each write in `with conn:` (a commit per call), guarded by a threading.Lock;
the app calls it through asyncio.to_thread so a slow disk never blocks the loop. Live tabs
are kept per user in a dict keyed by the tab's id; pushes run side by side, each bounded by
send_timeout, and a tab whose push fails or times out leaves the dict for good.
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

SURROGATE = re.compile("[\ud800-\udfff]")
FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _text(name: str, value: Any, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if not low <= len(value) <= high:
        raise ValueError(f"{name} must be {low}-{high} characters long")
    if SURROGATE.search(value):
        raise ValueError(f"{name} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is missing")
    title = _text("title", data["title"], 1, MAX_TITLE)
    if title.isspace():
        raise ValueError("title is blank")
    body = _text("body", data["body"], 0, MAX_BODY) if "body" in data else ""
    level = data.get("level", "normal")
    if "level" in data and not (isinstance(level, str) and level in LEVELS):
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("expected a text frame")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(frame, dict):
        raise ValueError("expected a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('type must be "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    if not all(isinstance(i, str) and not SURROGATE.search(i) for i in ids):
        raise ValueError("ids must hold strings only")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._guard = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        with self._guard, self._conn:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, user TEXT, seq INTEGER,"
                " title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, seq INTEGER)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {"id": str(uuid.uuid4()), "user": user, "title": fields["title"],
                "body": fields["body"], "level": fields["level"],
                "created_at": now, "expires_at": now + self.ttl_seconds}
        with self._guard, self._conn:
            self._conn.execute("INSERT OR IGNORE INTO seqs VALUES (?, 0)", (user,))
            self._conn.execute("UPDATE seqs SET seq = seq + 1 WHERE user = ?", (user,))
            note["seq"] = self._conn.execute(
                "SELECT seq FROM seqs WHERE user = ?", (user,)).fetchone()[0]
            self._conn.execute(
                "INSERT INTO notes VALUES (:id, :user, :seq, :title, :body, :level,"
                " :created_at, :expires_at)", note)
            kept = self._conn.execute(
                "SELECT id FROM notes WHERE user = ? ORDER BY seq DESC", (user,)).fetchall()
            for (old,) in kept[max(self.max_per_user, 0):]:
                self._conn.execute("DELETE FROM notes WHERE id = ?", (old,))
        return {k: note[k] for k in FIELDS}

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._guard, self._conn:
            now = time.time()
            self._conn.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            rows = self._conn.execute(
                f"SELECT {', '.join(FIELDS)} FROM notes WHERE user = ? AND expires_at > ?"
                " ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(FIELDS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = set(ids)
        with self._guard, self._conn:
            now = time.time()
            gone = 0
            for nid in distinct:
                gone += self._conn.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (nid, user, now)).rowcount
        return gone


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
    tabs: dict[str, dict[int, WebSocket]] = {}
    user_locks: dict[str, asyncio.Lock] = {}
    counts = {"audited": 0}

    async def send_within(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), timeout=send_timeout)
            return True
        except Exception:
            return False

    @bus.on("notification.created", priority=EventPriority.HIGH)
    def enrich(note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except ValueError:
            note.clear()
            note["rejected"] = True
            raise
        note.clear()  # only the four fields go on: other fields are neither stored nor sent
        note.update(accepted)

    @bus.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        user = note["user"]
        async with user_locks.setdefault(user, asyncio.Lock()):
            saved = await asyncio.to_thread(store.add, user, note)
            note.update(saved)
            frame = {"type": "notification", **saved}
            targets = list(tabs.get(user, {}).items())
            oks = await asyncio.gather(*(send_within(ws, frame) for _, ws in targets))
            for (key, _), ok in zip(targets, oks):
                if not ok:
                    tabs.get(user, {}).pop(key, None)
            note["delivered"] = sum(oks)

    @bus.on("notification.created", priority=EventPriority.LOW)
    def audit(note: dict[str, Any]) -> None:
        if not note.get("rejected"):
            counts["audited"] += 1

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not valid UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note: dict[str, Any] = dict(data)
        result = await bus.emit("notification.created", note)
        if "seq" not in note:
            refusals = [e for e in result.errors if isinstance(e, ValueError)]
            reason = str(refusals[0]) if refusals else "the notification was not stored"
            return res.json({"error": reason}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications_socket(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await send_within(ws, {"type": "error", "code": "bad_request",
                                   "message": "bad user name"})
            try:
                await asyncio.wait_for(ws.close(BAD_REQUEST_CLOSE), timeout=send_timeout)
            except Exception:
                pass
            return
        key = id(ws)
        try:
            async with user_locks.setdefault(user, asyncio.Lock()):
                backlog = await asyncio.to_thread(store.pending, user)
                for note in backlog:
                    if not await send_within(ws, {"type": "notification", **note}):
                        return
                if not await send_within(ws, {"type": "backlog_end", "count": len(backlog)}):
                    return
                tabs.setdefault(user, {})[key] = ws
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    reason = str(exc)
                    await send_within(ws, {"type": "error", "code": "bad_frame",
                                           "message": reason})
                    await bus.emit("ws.error", {"user": user, "error": reason})
                    continue
                count = await asyncio.to_thread(store.ack, user, ids)
                await send_within(ws, {"type": "acked", "count": count})
        except Exception:
            pass
        finally:
            mine = tabs.get(user)
            if mine is not None:
                mine.pop(key, None)
                if not mine:
                    tabs.pop(user, None)

    return app
