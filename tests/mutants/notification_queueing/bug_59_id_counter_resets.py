"""Ids come from a counter kept in the Store object, so a restarted app hands out ids already in use.

Breaks: "Ids and order: ids are unique" (and a restart must lose nothing: two rows now share an id).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
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
SEND_TIMEOUT = 2.0


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with defaults, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of letters, digits, _ . -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if not _is_text(title):
        raise ValueError("title holds a lone surrogate")
    body = ""
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str):
            raise ValueError("body must be a string")
        if len(body) > MAX_BODY:
            raise ValueError(f"body must be at most {MAX_BODY} characters")
        if not _is_text(body):
            raise ValueError("body holds a lone surrogate")
    level = "normal"
    if "level" in data:
        level = data["level"]
        if not isinstance(level, str) or level not in LEVELS:
            raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError and nothing else."""
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("binary frames are not accepted")
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("frame nested too deep") from None
        except ValueError:
            raise ValueError("frame is not JSON") from None
        if not isinstance(data, dict) or data.get("type") != "ack":
            raise ValueError('frame must be an object with type "ack"')
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if not all(_is_text(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - never anything but ValueError
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


class Store:
    """The offline queue in SQLite."""

    COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.last_id = 0
        self.cap = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS notifications (id TEXT, seq INTEGER,"
            " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)"
        )
        self.db.execute("CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER)")

    def _purge(self, user: str, now: float) -> None:
        self.db.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?", (user, now))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        self.last_id += 1
        note_id = f"ntf-{self.last_id}"
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                "INSERT INTO last_seq VALUES (?, 1) ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            row = (note_id, seq, user, fields["title"], fields["body"], fields["level"],
                   now, now + self.ttl)
            self.db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            self._purge(user, now)
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN (SELECT seq FROM"
                " notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.cap),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return dict(zip(self.COLUMNS, row))

    def pending(self, user: str, after: int = 0) -> list[dict[str, Any]]:
        now = time.time()
        self._purge(user, now)
        rows = self.db.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notifications"
            " WHERE user = ? AND expires_at > ? AND seq > ? ORDER BY seq",
            (user, now, after),
        ).fetchall()
        return [dict(zip(self.COLUMNS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for note_id in set(ids):
                cur = self.db.execute(
                    "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                    (user, note_id, now),
                )
                count += cur.rowcount
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return count


class Tab:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.live = False
        self.lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.lock:
            await self.ws.send_text(json.dumps(frame))


class Hub:
    def __init__(self, send_timeout: float) -> None:
        self.tabs: dict[str, set[Tab]] = {}
        self.timeout = send_timeout

    def join(self, user: str, tab: Tab) -> None:
        self.tabs.setdefault(user, set()).add(tab)

    def leave(self, user: str, tab: Tab) -> None:
        tabs = self.tabs.get(user)
        if tabs is not None:
            tabs.discard(tab)
            if not tabs:
                del self.tabs[user]

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        live = [t for t in self.tabs.get(user, ()) if t.live]

        async def one(tab: Tab) -> bool:
            try:
                await asyncio.wait_for(tab.send(frame), self.timeout)
                return True
            except Exception:  # noqa: BLE001 - failed or timed out: dead tab
                self.leave(user, tab)
                tab.live = False
                return False

        results = await asyncio.gather(*(one(t) for t in live))
        return sum(results)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The app: POST /notifications and the /notifications/{user} WebSocket route."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    hub = Hub(send_timeout)
    audit = {"count": 0}

    def enrich(note: dict[str, Any]) -> None:
        try:
            clean = validate(note.pop("data", None))
        except ValueError as exc:
            note["error"] = str(exc)  # refused: the later listeners skip it
            return
        note.update(clean)

    async def store_and_push(note: dict[str, Any]) -> None:
        if "error" in note:
            return
        user = note["user"]
        stored = store.add(user, note)
        note.update(stored)
        note["delivered"] = await hub.push(user, {"type": "notification", **stored})

    def count(note: dict[str, Any]) -> None:
        if "error" not in note:
            audit["count"] += 1

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        note: dict[str, Any] = {"data": data}
        result = await events.emit("notification.created", note)
        if "error" in note:
            return res.json({"error": note["error"]}, status_code=422)
        if not result.ok or "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "bad user name"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws)
        hub.join(user, tab)
        try:
            sent = 0
            last = 0
            while True:
                batch = store.pending(user, after=last)
                if not batch:
                    break
                for note in batch:
                    await tab.send({"type": "notification", **note})
                    last = note["seq"]
                    sent += 1
            async with tab.lock:
                for note in store.pending(user, after=last):
                    await tab.ws.send_text(json.dumps({"type": "notification", **note}))
                    sent += 1
                tab.live = True
                await tab.ws.send_text(json.dumps({"type": "backlog_end", "count": sent}))
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await tab.send({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await tab.send({"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - the client left: not an error
            pass
        finally:
            hub.leave(user, tab)

    return app
