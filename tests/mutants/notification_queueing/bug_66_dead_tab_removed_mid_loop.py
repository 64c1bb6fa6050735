"""Bug: a failed tab is removed from the live list inside the loop over that list, so the next tab is skipped.

Breaks: "Every open tab of the user receives every live notification." (and "K the number of the
user's live tabs the push reached"): when a dead tab is not the last one, the tab after it gets
nothing and is not counted.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import time
from collections import defaultdict
from contextlib import closing
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
SURROGATE = re.compile("[\ud800-\udfff]")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with defaults, or ValueError."""
    if type(data) is not dict:
        raise ValueError("expected a JSON object")
    out: dict[str, str] = {}
    user = data.get("user")
    if type(user) is not str or NAME.fullmatch(user) is None:
        raise ValueError("bad user")
    out["user"] = user
    if "title" not in data:
        raise ValueError("missing title")
    title = data["title"]
    if type(title) is not str or len(title) == 0 or len(title) > MAX_TITLE:
        raise ValueError("title must be text of 1-200 characters")
    if title.isspace() or SURROGATE.search(title):
        raise ValueError("title must hold visible text")
    out["title"] = title
    out["body"] = ""
    if "body" in data:
        body = data["body"]
        if type(body) is not str or len(body) > MAX_BODY or SURROGATE.search(body):
            raise ValueError("body must be text of at most 2000 characters")
        out["body"] = body
    out["level"] = "normal"
    if "level" in data:
        level = data["level"]
        if type(level) is not str or level not in LEVELS:
            raise ValueError("level must be exactly low, normal or high")
        out["level"] = level
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError."""
    try:
        text = message.get("text")
        if type(text) is not str:
            raise ValueError("binary or empty frame")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("frame nested too deeply") from None
        if type(frame) is not dict or frame.get("type") != "ack":
            raise ValueError('expected an object with type "ack"')
        ids = frame.get("ids")
        if type(ids) is not list:
            raise ValueError("ids must be a list")
        for i in ids:
            if type(i) is not str or SURROGATE.search(i):
                raise ValueError("ids must be strings")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # whatever else: still a bad frame
        raise ValueError(f"bad frame ({type(exc).__name__})") from None


class Store:
    """The offline queue, one short-lived connection per call."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path, self.ttl, self.cap = path, ttl_seconds, max_per_user
        with closing(self._connect()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT,"
                       " seq INTEGER, title TEXT, body TEXT, level TEXT,"
                       " created_at REAL, expires_at REAL)")
            db.execute("CREATE TABLE IF NOT EXISTS users (user TEXT PRIMARY KEY,"
                       " last INTEGER NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.row_factory = sqlite3.Row
        return db

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        with closing(self._connect()) as db, db:
            cur = db.execute("UPDATE users SET last = last + 1 WHERE user = ?", (user,))
            if cur.rowcount == 0:
                db.execute("INSERT INTO users (user, last) VALUES (?, 1)", (user,))
            seq = db.execute("SELECT last FROM users WHERE user = ?", (user,)).fetchone()[0]
            note = {"id": secrets.token_urlsafe(12), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": created, "expires_at": created + self.ttl}
            db.execute("INSERT INTO queue VALUES (:id, :user, :seq, :title, :body, :level,"
                       " :created_at, :expires_at)", note)
            db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, created))
            keep = [r[0] for r in db.execute(
                "SELECT id FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?",
                (user, self.cap))]
            db.execute(f"DELETE FROM queue WHERE user = ? AND id NOT IN "
                       f"({', '.join('?' * len(keep))})", (user, *keep))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            rows = db.execute("SELECT * FROM queue WHERE user = ? AND expires_at > ?"
                              " ORDER BY seq", (user, now)).fetchall()
        order = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
        return [{k: row[k] for k in order} for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        removed = 0
        with closing(self._connect()) as db, db:
            for i in dict.fromkeys(ids):
                removed += db.execute("DELETE FROM queue WHERE id = ? AND user = ?"
                                      " AND expires_at > ?", (i, user, now)).rowcount
        return removed


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The notification service, built from closures."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: defaultdict[str, list[WebSocket]] = defaultdict(list)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    created_count = [0]

    async def push(user: str, frame: dict[str, Any]) -> int:
        text = json.dumps(frame)
        reached = 0
        for tab in live[user]:
            try:
                await asyncio.wait_for(tab.send_text(text), send_timeout)
            except Exception:
                live[user].remove(tab)  # dead: never try it again
            else:
                reached += 1
        return reached

    def with_defaults(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def keep_and_send(note: dict[str, Any]) -> None:
        async with locks[note["user"]]:
            stored = store.add(note["user"], note)
            note["reply"] = {"id": stored["id"], "seq": stored["seq"],
                             "delivered": await push(note["user"],
                                                     {"type": "notification", **stored})}

    def audit(note: dict[str, Any]) -> None:
        created_count[0] += 1

    events.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    events.on("notification.created", keep_and_send, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    def refuse(res: Any, why: str) -> Any:
        return res.json({"error": why}, status_code=422)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        raw: bytes = await req.body
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return refuse(res, "the body is not UTF-8")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):
            return refuse(res, "the body is not JSON")
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return refuse(res, str(exc))
        await events.emit("notification.created", note)
        if "reply" not in note:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json(note["reply"], status_code=201)

    async def say(ws: WebSocket, kind: str, **fields: Any) -> None:
        await ws.send_text(json.dumps({"type": kind, **fields}))

    @app.ws_route("/notifications/{user}")
    async def receive_notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if NAME.fullmatch(user) is None:
            await say(ws, "error", code="bad_request", message="user must match [A-Za-z0-9_.-]{1,32}")
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await say(ws, "notification", **note)
                await say(ws, "backlog_end", count=len(backlog))
                live[user].append(ws)
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await say(ws, "error", code="bad_frame", message=str(exc))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await say(ws, "acked", count=store.ack(user, ids))
        except Exception:
            return  # the client left; not an error
        finally:
            if ws in live[user]:
                live[user].remove(ws)

    return app
