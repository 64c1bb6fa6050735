"""Style: closures inside create_app over one SQLite connection, ids built as "<user>:<seq>", acks as one DELETE over json_each, tabs kept as {user: {tab number: socket}} and pushed to with asyncio.wait(timeout=send_timeout).

Follows: "ID is a unique string": user names cannot hold ":" and a user's seq is never reused, so "<user>:<seq>" is unique, also across restarts; "seq increases by one per user and is never reused, not even after acknowledgements, expiry or a restart, nor when POSTs for one user arrive at the same moment": a last_seq table bumped in the same BEGIN IMMEDIATE transaction as the INSERT; "a refused notification is never stored and uses no seq": validate() runs in the route before the emit; "MEDIUM store and push to every open tab of the user": the push listener commits, then sends to a snapshot of the user's live tabs, all at once, and asyncio.wait(..., timeout=send_timeout) drops the failed and the unfinished ones; "a tab still receiving its backlog ... does not count": a tab joins the live dict only after backlog_end, under the user's lock; "an id given twice counts once", "no length limit", "matches only exactly": DELETE ... WHERE id IN (SELECT value FROM json_each(?)), text equality, rowcount; "ids that expired (even if not purged yet) count 0": AND expires_at > now; "the oldest (lowest seq) is dropped": rows beyond the newest max_per_user go in the same transaction; "commit every write, a purge too": every write is its own committed transaction; "parse_ack raises ValueError ... never anything else": json.loads' RecursionError is turned into ValueError.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import itertools
from contextlib import contextmanager
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
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        with self.transaction() as db:
            db.execute("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, user TEXT, seq INTEGER,"
                       " title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)")
            db.execute("CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER)")

    @contextmanager
    def transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self.transaction() as db:
            now = time.time()
            (last,) = db.execute("SELECT COALESCE(MAX(seq), 0) FROM last_seq WHERE user = ?",
                                 (user,)).fetchone()
            seq = last + 1
            db.execute("INSERT OR REPLACE INTO last_seq VALUES (?, ?)", (user, seq))
            note = {"id": f"{user}:{seq}", "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"], "created_at": now,
                    "expires_at": now + self.ttl}
            db.execute("INSERT INTO notes VALUES (:id, :user, :seq, :title, :body, :level,"
                       " :created_at, :expires_at)", note)
            db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            db.execute("DELETE FROM notes WHERE user = ? AND seq NOT IN"
                       " (SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                       (user, user, max(self.cap, 0)))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.transaction() as db:
            db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
        keys = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
        rows = self.conn.execute(
            f"SELECT {', '.join(keys)} FROM notes WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now))
        return [dict(zip(keys, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self.transaction() as db:
            cur = db.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT value FROM json_each(?))",
                (user, time.time(), json.dumps(ids)))
        return cur.rowcount


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
    live: dict[str, dict[int, WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    tab_numbers = itertools.count(1)
    counts = {"created": 0}

    def user_lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    def enrich(n: dict[str, Any]) -> None:  # HIGH: the defaults (validate() gave them already)
        n.setdefault("body", "")
        n.setdefault("level", "normal")

    async def push(n: dict[str, Any]) -> None:  # MEDIUM
        async with user_lock(n["user"]):
            note = store.add(n["user"], n)
            tabs = dict(live.get(n["user"], {}))
            frame = {"type": "notification", **note}
            tasks = {asyncio.ensure_future(ws.send_json(frame)): number for number, ws in tabs.items()}
            done, late = await asyncio.wait(tasks, timeout=send_timeout) if tasks else (set(), set())
            for task in late:
                task.cancel()
            reached = [t for t in done if not t.cancelled() and t.exception() is None]
            for task in set(tasks) - set(reached):
                live.get(n["user"], {}).pop(tasks[task], None)
        n.update(id=note["id"], seq=note["seq"], delivered=len(reached))

    def count(n: dict[str, Any]) -> None:  # LOW
        counts["created"] += 1

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", count, priority=EventPriority.LOW)

    async def post_notification(req, res):
        try:
            fields = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "not JSON"}, status_code=422)
        await app.events.emit("notification.created", fields)
        if "id" not in fields:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({k: fields[k] for k in ("id", "seq", "delivered")}, status_code=201)

    async def send_or_raise(ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_json(frame), send_timeout)

    async def notifications_ws(ws: WebSocket):
        await ws.accept()
        user = ws.path_params.get("user", "")
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        number = next(tab_numbers)
        try:
            async with user_lock(user):
                notes = store.pending(user)
                for note in notes:
                    await send_or_raise(ws, {"type": "notification", **note})
                await send_or_raise(ws, {"type": "backlog_end", "count": len(notes)})
                live.setdefault(user, {})[number] = ws
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - gone or stalled: not an error
            pass
        finally:
            live.get(user, {}).pop(number, None)

    app.post("/notifications")(post_notification)
    app.ws_route("/notifications/{user}")(notifications_ws)
    return app
