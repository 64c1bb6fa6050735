"""Bug: the cap is enforced from an in-memory count of each user's stored rows (kept up to date on add, ack and purge, to spare a DELETE per POST), which starts at 0 in every new Store, so after a restart the rows already in the database are not counted.

Breaks: "at most `max_per_user` unacknowledged notifications are kept per user" ... With max_per_user=2: post t1 and t2 for ann, restart the app on the same db_path, post t3: ann's backlog is t1, t2, t3 instead of t2, t3 (and the cap only catches up after two more posts).
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
SEND_TIMEOUT = 2.0

_SURROGATE = re.compile("[\ud800-\udfff]")


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be a string of 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if _SURROGATE.search(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
    if _SURROGATE.search(body):
        raise ValueError("body holds a lone surrogate")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        text = message.get("text")
        if not isinstance(text, str):
            raise ValueError("frames must be JSON text, not binary")
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("the frame is nested too deep") from None
        except ValueError as exc:
            raise ValueError(f"the frame is not JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("type") != "ack":
            raise ValueError('a frame must be an object whose type is "ack"')
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_SURROGATE.search(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS notes (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS notes_user_seq ON notes (user, seq);
            CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
            """
        )
        self.db.commit()
        self._stored: dict[str, int] = {}  # user -> rows stored, so add only trims when needed

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {"id": uuid.uuid4().hex, "seq": 0, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds}
        with self.db:
            self.db.execute("INSERT INTO counters VALUES (?, 1) "
                            "ON CONFLICT(user) DO UPDATE SET seq = seq + 1", (user,))
            (note["seq"],) = self.db.execute(
                "SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            self.db.execute("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            tuple(note[c] for c in COLUMNS))
            gone = self.db.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now)).rowcount
            stored = self._stored.get(user, 0) + 1 - gone
            if stored > self.max_per_user:  # only then is there something to drop
                self.db.execute(
                    "DELETE FROM notes WHERE id IN (SELECT id FROM notes WHERE user = ? "
                    "ORDER BY seq LIMIT ?)", (user, stored - self.max_per_user))
                stored = self.max_per_user
            self._stored[user] = max(stored, 0)
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            gone = self.db.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now)).rowcount
        if gone:
            self._stored[user] = max(self._stored.get(user, 0) - gone, 0)
        rows = self.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM notes WHERE user = ? AND expires_at > ? "
            "ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        unique = list(dict.fromkeys(ids))
        count = 0
        with self.db:
            for i in range(0, len(unique), 500):
                chunk = unique[i:i + 500]
                marks = ", ".join("?" * len(chunk))
                cur = self.db.execute(
                    f"DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk))
                count += cur.rowcount
        if count:
            self._stored[user] = max(self._stored.get(user, 0) - count, 0)
        return count


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
    audit = {"count": 0}

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
            return True
        except Exception:  # noqa: BLE001
            return False

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_for(user):
            saved = store.add(user, note)
            note["id"], note["seq"] = saved["id"], saved["seq"]
            tabs = list(live.get(user, []))
            frame = {"type": "notification", **saved}
            results = await asyncio.gather(*(send(ws, frame) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok and ws in live.get(user, []):
                    live[user].remove(ws)
            note["delivered"] = sum(results)

    def count(note: dict[str, Any]) -> None:
        audit["count"] += 1

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
            note = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await events.emit("notification.created", note)
        if not result.ok or "seq" not in note:
            return res.json({"error": str(result.errors[0]) if result.errors else "refused"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "bad user name"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:  # noqa: BLE001
                pass
            return
        async with lock_for(user):
            backlog = store.pending(user)
            for note in backlog:
                if not await send(ws, {"type": "notification", **note}):
                    return
            if not await send(ws, {"type": "backlog_end", "count": len(backlog)}):
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
                await send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001
            pass
        finally:
            tabs = live.get(user, [])
            if ws in tabs:
                tabs.remove(ws)

    return app
