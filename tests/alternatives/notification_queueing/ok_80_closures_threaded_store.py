"""Exercise 4: notification_queueing.

Closures inside create_app hold one app's state (the store, a set of live tabs per user, a
lock per user); the route parses and validates before it emits, so the HIGH listener only
fills the defaults of a notification emitted by other code. Every store call runs in a worker
thread (asyncio.to_thread) behind a threading lock, each write in its own committed
transaction; the per-user asyncio lock is held around "store, then push" and around "backlog,
backlog_end, then join the live tabs", so nothing arrives twice or before backlog_end. A push
goes to a user's tabs one after another, each bounded by send_timeout.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import threading
import time
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

_SURROGATE = re.compile("[\ud800-\udfff]")
_MISSING = object()


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise ValueError("the body must be a JSON object")
    problems = []
    user = data.get("user", _MISSING)
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        problems.append("user: 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title", _MISSING)
    if not isinstance(title, str) or not title or len(title) > MAX_TITLE or title.isspace():
        problems.append(f"title: text of 1-{MAX_TITLE} characters, not only whitespace")
    elif _SURROGATE.search(title):
        problems.append("title: holds a lone surrogate")
    body = data.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        problems.append(f"body: text of at most {MAX_BODY} characters")
    elif _SURROGATE.search(body):
        problems.append("body: holds a lone surrogate")
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        problems.append("level: exactly low, normal or high")
    if problems:
        raise ValueError("; ".join(problems))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        if not isinstance(message, dict) or message.get("bytes") is not None:
            raise ValueError("binary frame")
        text = message.get("text")
        if not isinstance(text, str):
            raise ValueError("no text in the frame")
        try:
            frame = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"not JSON ({type(exc).__name__})") from None
        if type(frame) is not dict or frame.get("type") != "ack":
            raise ValueError('not an object with "type": "ack"')
        ids = frame.get("ids")
        if type(ids) is not list or any(type(i) is not str for i in ids):
            raise ValueError("ids is not a list of strings")
        if any(_SURROGATE.search(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:
        raise ValueError(f"malformed frame ({type(exc).__name__})") from None


_KEYS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self._ttl = ttl_seconds
        self._cap = max_per_user
        self._guard = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._guard, self._db:
            self._db.execute("""CREATE TABLE IF NOT EXISTS notes (
                id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL, UNIQUE (user, seq))""")
            self._db.execute("""CREATE TABLE IF NOT EXISTS seqs (
                user TEXT PRIMARY KEY, seq INTEGER NOT NULL)""")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        with self._guard, self._db:
            row = self._db.execute("SELECT seq FROM seqs WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO seqs (user, seq) VALUES (?, ?)", (user, seq))
            now = time.time()
            note = {"id": f"n-{secrets.token_hex(12)}", "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self._ttl}
            self._db.execute(f"INSERT INTO notes ({', '.join(_KEYS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             tuple(note[k] for k in _KEYS))
            self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            keep = [r[0] for r in self._db.execute(
                "SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC", (user,))]
            dropped = keep[max(self._cap, 0):]
            self._db.executemany("DELETE FROM notes WHERE user = ? AND seq = ?",
                                 [(user, s) for s in dropped])
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self._guard:
            now = time.time()
            with self._db:
                self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            rows = self._db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notes "
                "WHERE user = ? AND expires_at > ? ORDER BY seq ASC", (user, now)).fetchall()
        return [dict(zip(_KEYS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        wanted = set(ids)
        with self._guard, self._db:
            now = time.time()
            count = 0
            for note_id in wanted:
                cur = self._db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now))
                count += cur.rowcount
        return count


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
    live: dict[str, set[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    counts = {"low": 0, "normal": 0, "high": 0}

    def user_lock(user: str) -> asyncio.Lock:
        if user not in locks:
            locks[user] = asyncio.Lock()
        return locks[user]

    async def deliver(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), timeout=send_timeout)
            return True
        except Exception:
            return False

    @app.events.on("notification.created", priority=EventPriority.HIGH)
    def with_defaults(note: dict[str, Any]) -> None:
        note.update(validate(note))  # the route validated already; other emitters get checked

    @app.events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(note: dict[str, Any]) -> None:
        fields = validate(note)
        user = fields["user"]
        async with user_lock(user):
            saved = await asyncio.to_thread(store.add, user, fields)
            reached = 0
            for ws in sorted(live.get(user, ()), key=id):
                if await deliver(ws, {"type": "notification", **saved}):
                    reached += 1
                else:
                    live[user].discard(ws)
        note["id"], note["seq"], note["delivered"] = saved["id"], saved["seq"], reached

    @app.events.on("notification.created", priority=EventPriority.LOW)
    def audit(note: dict[str, Any]) -> None:
        if "id" in note:
            counts[note["level"]] += 1

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            payload = json.loads(raw.decode("utf-8"))
            note = validate(payload)
        except RecursionError:
            return res.json({"error": "JSON nested too deep"}, status_code=422)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            return res.json({"error": str(exc)}, status_code=422)
        result = await app.events.emit("notification.created", note)
        if "id" not in note:
            why = result.errors[0] if result.errors else "not stored"
            return res.json({"error": str(why)}, status_code=422)
        return res.json({k: note[k] for k in ("id", "seq", "delivered")}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await deliver(ws, {"type": "error", "code": "bad_request",
                               "message": "bad user name: 1-32 characters of [A-Za-z0-9_.-]"})
            try:
                await asyncio.wait_for(ws.close(BAD_REQUEST_CLOSE), timeout=send_timeout)
            except Exception:
                pass
            return
        try:
            async with user_lock(user):
                notes = await asyncio.to_thread(store.pending, user)
                for note in notes:
                    if not await deliver(ws, {"type": "notification", **note}):
                        return
                if not await deliver(ws, {"type": "backlog_end", "count": len(notes)}):
                    return
                live.setdefault(user, set()).add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await deliver(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    try:
                        await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    except Exception:
                        pass
                else:
                    acked = await asyncio.to_thread(store.ack, user, ids)
                    await deliver(ws, {"type": "acked", "count": acked})
        except Exception:
            pass  # the tab went away: not an error
        finally:
            live.get(user, set()).discard(ws)

    return app
