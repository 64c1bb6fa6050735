"""Style: one NotificationHub class owns the tabs, the per-user locks and the listeners; the Store commits every write in autocommit mode.

Follows: "validate(data) -> dict ... or ValueError" (validate, also run in the HIGH listener);
"parse_ack ... never any other exception" (RecursionError and every decode error become ValueError);
"seq ... never reused" (a counters table bumped in the same transaction as the insert);
"the oldest (lowest seq) is dropped" (Store.add trims to max_per_user after purging expired rows);
"Backlog first ... then live" (a per-user lock held by the backlog and by store-and-push);
"a push to a tab that fails, or takes longer than send_timeout seconds, drops that tab"
(asyncio.wait_for per send, failed tabs removed from the live set).
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


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("binary frames are not accepted: send JSON text")
        if not isinstance(text, str):
            raise ValueError("the frame is not text")
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("the frame is nested too deeply to parse") from None
        if not isinstance(data, dict) or data.get("type") != "ack":
            raise ValueError('the frame must be an object whose type is "ack"')
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - parse_ack raises only ValueError
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                  timeout=30)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
            " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
            " created_at REAL NOT NULL, expires_at REAL NOT NULL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY,"
                        " seq INTEGER NOT NULL)")

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {"id": uuid.uuid4().hex, "seq": 0, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds}
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self._purge(now)
            self.db.execute("INSERT OR IGNORE INTO counters (user, seq) VALUES (?, 0)", (user,))
            self.db.execute("UPDATE counters SET seq = seq + 1 WHERE user = ?", (user,))
            (note["seq"],) = self.db.execute(
                "SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            self.db.execute(
                f"INSERT INTO notes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 8)})",
                tuple(note[c] for c in COLUMNS))
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN (SELECT seq FROM notes"
                " WHERE user = ? ORDER BY seq DESC LIMIT ?)", (user, user, self.max_per_user))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._purge(now)
        rows = self.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM notes WHERE user = ? AND expires_at > ?"
            " ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for note_id in dict.fromkeys(ids):
                cur = self.db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now))
                count += cur.rowcount
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return count


def _frame(note: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notification", **{c: note[c] for c in COLUMNS}}


class NotificationHub:
    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = defaultdict(list)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.audit: list[tuple[str, str]] = []

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
            return True
        except Exception:  # noqa: BLE001 - a failed or stalled tab is dropped
            return False

    # listeners
    def enrich(self, note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.locks[user]:
            stored = self.store.add(user, note)
            note.update(stored)
            tabs = list(self.tabs[user])
            frame = _frame(stored)
            results = await asyncio.gather(*(self.send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in self.tabs[user]:
                    self.tabs[user].remove(ws)
            note["delivered"] = sum(results)

    def record(self, note: dict[str, Any]) -> None:
        self.audit.append((note["user"], note.get("id", "")))

    # routes
    async def create(self, req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
            note = validate(data)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await self.app.events.emit("notification.created", note)
        if not result.ok or "seq" not in note:
            return res.json({"error": str(result.errors[0]) if result.errors else "refused"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        async with self.locks[user]:
            notes = self.store.pending(user)
            for note in notes:
                if not await self.send(ws, _frame(note)):
                    return
            if not await self.send(ws, {"type": "backlog_end", "count": len(notes)}):
                return
            self.tabs[user].append(ws)
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    await self.app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - a tab that went away is not an error
            return
        finally:
            if ws in self.tabs[user]:
                self.tabs[user].remove(ws)


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
    hub = NotificationHub(app, Store(db_path, ttl_seconds=ttl_seconds,
                                     max_per_user=max_per_user), send_timeout)
    app.events.on("notification.created", hub.enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", hub.store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", hub.record, priority=EventPriority.LOW)
    app.post("/notifications")(hub.create)
    app.ws_route("/notifications/{user}")(hub.connect)
    return app
