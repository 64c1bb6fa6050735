"""Exercise 4: notification_queueing. A Store class plus module-level push helpers over a module-level registry of open tabs.

BUG (planted): "Each `create_app` call works with its own `ttl_seconds` and
`max_per_user`, and its own live tabs (a POST to one app is pushed only to the tabs
connected to that app), also when an earlier app in the same process (a notebook cell
run again) used that `db_path` and is still there". This version keeps the open tabs
(and the per-user locks) in module-level dicts, ``_LIVE`` and ``_LOCKS``, so that the
module-level ``push``/``join``/``leave`` helpers can reach them without passing an
object around; the registry lives as long as the module, not as long as the app, so a
second app in the same process pushes to (and counts in ``delivered``) the tabs of the
first one.
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

_CHUNK = 500  # ids per IN (...) clause: far below SQLite's variable limit


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
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "")
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError('level must be exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str):
            raise ValueError("binary frames are not accepted: send JSON text")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            raise ValueError("the frame is not valid JSON") from None
        if not isinstance(data, dict) or data.get("type") != "ack":
            raise ValueError('expected an object whose type is "ack"')
        ids = data.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # never anything but ValueError, whatever the frame holds
        raise ValueError(f"malformed frame ({type(exc).__name__})") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.conn = sqlite3.connect(path, isolation_level=None, timeout=10.0,
                                    check_same_thread=False)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS notifications ("
            " id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,"
            " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
            " created_at REAL NOT NULL, expires_at REAL NOT NULL)")
        self.conn.execute(
            "CREATE INDEX IF NOT EXISTS notifications_user_seq ON notifications (user, seq)")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        note = {
            "id": uuid.uuid4().hex,
            "seq": 0,
            "user": user,
            "title": fields["title"],
            "body": fields.get("body", ""),
            "level": fields.get("level", "normal"),
            "created_at": created,
            "expires_at": created + self.ttl_seconds,
        }
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(
                "INSERT INTO counters (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1", (user,))
            note["seq"] = conn.execute(
                "SELECT last FROM counters WHERE user = ?", (user,)).fetchone()[0]
            conn.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?",
                         (user, created))
            conn.execute(
                "INSERT INTO notifications (id, user, seq, title, body, level, created_at,"
                " expires_at) VALUES (:id, :user, :seq, :title, :body, :level, :created_at,"
                " :expires_at)", note)
            conn.execute(
                "DELETE FROM notifications WHERE user = ? AND id NOT IN ("
                " SELECT id FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self.conn.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
        rows = self.conn.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at"
            " FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now)).fetchall()
        keys = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
        return [dict(zip(keys, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        count = 0
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start:start + _CHUNK]
                marks = ",".join("?" * len(chunk))
                cur = conn.execute(
                    f"DELETE FROM notifications WHERE user = ? AND expires_at > ?"
                    f" AND id IN ({marks})", (user, now, *chunk))
                count += cur.rowcount
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return count


class Tab:
    """One open WebSocket of a user; sends to it are serialised."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        text = json.dumps(frame)
        async with self.lock:
            await self.ws.send_text(text)


# Open tabs by user, and one lock per user ("store, then push" / "backlog, then live").
_LIVE: dict[str, set[Tab]] = {}
_LOCKS: dict[str, asyncio.Lock] = {}


def user_lock(user: str) -> asyncio.Lock:
    return _LOCKS.setdefault(user, asyncio.Lock())


def join(user: str, tab: Tab) -> None:
    _LIVE.setdefault(user, set()).add(tab)


def leave(user: str, tab: Tab) -> None:
    tabs = _LIVE.get(user)
    if tabs is not None:
        tabs.discard(tab)
        if not tabs:
            del _LIVE[user]


async def _push_one(user: str, tab: Tab, frame: dict[str, Any], timeout: float) -> bool:
    try:
        await asyncio.wait_for(tab.send(frame), timeout)
        return True
    except Exception:
        leave(user, tab)
        return False


async def push(user: str, frame: dict[str, Any], timeout: float) -> int:
    """Send ``frame`` to every open tab of ``user``; how many it reached."""
    tabs = list(_LIVE.get(user, ()))
    if not tabs:
        return 0
    results = await asyncio.gather(*(_push_one(user, t, frame, timeout) for t in tabs))
    return sum(results)


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
    audit = {"created": 0}

    def check(note: dict[str, Any]) -> None:
        """HIGH: validate and fill the defaults; a refused one is marked for the others."""
        try:
            accepted = validate(note)
        except ValueError:
            note["_refused"] = True
            raise
        note.update(accepted)

    async def store_and_push(note: dict[str, Any]) -> None:
        """MEDIUM: commit, then push to every live tab of the user."""
        if note.get("_refused"):
            return
        fields = validate(note)
        user = fields["user"]
        async with user_lock(user):
            stored = store.add(user, fields)
            note["id"], note["seq"] = stored["id"], stored["seq"]
            note["delivered"] = await push(user, {"type": "notification", **stored},
                                           send_timeout)

    def count(note: dict[str, Any]) -> None:
        """LOW: audit."""
        if "id" in note:
            audit["created"] += 1

    events.on("notification.created", check, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "bad user name"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        tab = Tab(ws)
        try:
            async with user_lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await asyncio.wait_for(tab.send({"type": "notification", **note}),
                                           send_timeout)
                await asyncio.wait_for(
                    tab.send({"type": "backlog_end", "count": len(backlog)}), send_timeout)
                join(user, tab)
        except Exception:
            return  # gone (or stalled) during its backlog: it never becomes live
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    try:
                        await tab.send({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    except Exception:
                        break
                    try:
                        await events.emit("ws.error", {"user": user, "error": str(exc)})
                    except Exception:
                        pass
                    continue
                counted = store.ack(user, ids)
                try:
                    await tab.send({"type": "acked", "count": counted})
                except Exception:
                    break
        except Exception:
            pass
        finally:
            leave(user, tab)

    return app
