"""Bug: the HIGH listener marks a notification "rejected" only for the lesson's fields (user, title, level); the body check added below it raises without the mark, so the MEDIUM listener still stores and pushes a notification whose body is refused, a detail kept from the lesson sample 07_notifications.ipynb cell 4 (validate: `notification["rejected"] = True`, then raise) with cell 6 (push_notification: `if notification.get("rejected"): return`).

Breaks: "Validate in the route before the emit, or only in the HIGH listener (the route then answers 422 from the emit's error): both are fine. Either way a refused notification is never stored and uses no `seq`" ... POST {"user": "ann", "title": "hi", "body": 2001 * "x"} (or "body": null, or "body": 5) answers 422, yet it is stored with seq 1, pushed to ann's open tabs and in her next backlog; her next notification gets seq 2.
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


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
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
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _has_surrogate(title) or _has_surrogate(body):
        raise ValueError("title and body must not hold lone surrogates")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("frames must be JSON text, not binary")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("frame nested too deeply") from None
        if not isinstance(frame, dict) or frame.get("type") != "ack" or not isinstance(frame.get("type"), str):
            raise ValueError('a frame must be an object with "type": "ack"')
        ids = frame.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("ids must not hold lone surrogates")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - never anything but ValueError
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
            " seq INTEGER NOT NULL, title TEXT, body TEXT, level TEXT,"
            " created_at REAL, expires_at REAL)")
        self.db.execute("CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)")

    def _purge(self, user: str) -> None:
        self.db.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?", (user, time.time()))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note = {"id": uuid.uuid4().hex, "seq": 0, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds}
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            note["seq"] = (row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO counters (user, seq) VALUES (?, ?)", (user, note["seq"]))
            db.execute(
                "INSERT INTO notifications VALUES (:id, :user, :seq, :title, :body, :level,"
                " :created_at, :expires_at)", note)
            self._purge(user)
            db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN (SELECT seq FROM"
                " notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.max_per_user, 0)))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        self._purge(user)
        cur = self.db.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notifications"
            " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, time.time()))
        names = [c[0] for c in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        count = 0
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ",".join("?" * len(chunk))
                cur = db.execute(
                    f"DELETE FROM notifications WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk))
                count += cur.rowcount
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return count


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``."""
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit_log: list[tuple[str, int, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send_one(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:  # noqa: BLE001 - failed or timed out: a dead tab
            return False
        return True

    def check(notification: dict[str, Any]) -> None:
        """HIGH: validate and fill in the defaults, as lesson 07's validate does."""
        user, title = notification.get("user"), notification.get("title")
        level = notification.setdefault("level", "normal")
        if (not isinstance(user, str) or not NAME.fullmatch(user)
                or not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE
                or title.isspace() or _has_surrogate(title)
                or not isinstance(level, str) or level not in LEVELS):
            notification["rejected"] = True
            raise ValueError("a notification needs a user name, a title of 1-200 characters "
                             "and a level of low, normal or high")
        body = notification.setdefault("body", "")
        if not isinstance(body, str) or len(body) > MAX_BODY or _has_surrogate(body):
            raise ValueError(f"body must be text of at most {MAX_BODY} characters")

    async def store_and_push(notification: dict[str, Any]) -> None:
        if notification.get("rejected"):
            return
        user = notification["user"]
        async with lock_for(user):
            note = store.add(user, notification)
            live = list(tabs.get(user, ()))
            frame = {"type": "notification", **note}
            results = await asyncio.gather(*(send_one(ws, frame) for ws in live))
            for ws, ok in zip(live, results):
                if not ok and ws in tabs.get(user, ()):
                    tabs[user].remove(ws)
        notification.update(id=note["id"], seq=note["seq"], delivered=sum(results))

    def audit(notification: dict[str, Any]) -> None:
        if "id" in notification:
            audit_log.append((notification["user"], notification["seq"], notification["delivered"]))

    app.events.on("notification.created", check, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    async def create(req, res):
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "the notification must be a JSON object"}, status_code=422)
        notification = {k: data[k] for k in ("user", "title", "body", "level") if k in data}
        result = await app.events.emit("notification.created", notification)
        if not result.ok or "id" not in notification:
            error = str(result.errors[0]) if result.errors else "the notification was refused"
            return res.json({"error": error}, status_code=422)
        return res.json({"id": notification["id"], "seq": notification["seq"],
                         "delivered": notification["delivered"]}, status_code=201)

    async def inbox(ws: WebSocket):
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with lock_for(user):
                sent = 0
                for note in store.pending(user):
                    await asyncio.wait_for(ws.send_json({"type": "notification", **note}), send_timeout)
                    sent += 1
                await asyncio.wait_for(ws.send_json({"type": "backlog_end", "count": sent}), send_timeout)
                tabs.setdefault(user, []).append(ws)
                joined = True
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
                count = store.ack(user, ids)
                await ws.send_json({"type": "acked", "count": count})
        except Exception:  # noqa: BLE001 - the client left or stalled: no traceback
            pass
        finally:
            if joined and ws in tabs.get(user, ()):
                tabs[user].remove(ws)

    app.post("/notifications")(create)
    app.ws_route("/notifications/{user}")(inbox)
    return app
