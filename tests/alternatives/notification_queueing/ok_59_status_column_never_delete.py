"""CORRECT variant: rows are never deleted; a ``state`` column says what became of them.

Schema: one table ``notes(user, seq, id, ..., state)`` with PRIMARY KEY (user, seq) and
state in ('pending', 'acked', 'dropped', 'expired'). Because no row is ever deleted,
the next seq really is MAX(seq) + 1 (over every row of the user, acked or not), which
survives acks, expiry, the cap and restarts. Ids are ``"<user>:<seq>"`` (':' is not a
name character and seq is never reused, so they are unique). Purging expired rows and
the cap are UPDATEs, each committed. The live side: per-user asyncio lock around
"store + push" and "backlog + become live", tabs in a dict of lists, the push via
asyncio.wait with per-send wait_for.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")  # kept for the stub's shape; names are checked below
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0

_FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _name_ok(value: object) -> bool:
    return isinstance(value, str) and 1 <= len(value) <= 32 and all(
        c in NAME_CHARS for c in value)


def _text_ok(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    if not _name_ok(data.get("user")):
        raise ValueError("bad 'user'")
    if "title" not in data or not _text_ok(data["title"]):
        raise ValueError("'title' is required text")
    title = data["title"]
    if len(title) > MAX_TITLE or title.isspace() or title == "":
        raise ValueError("'title' must be 1-200 characters, not all whitespace")
    body = data["body"] if "body" in data else ""
    if not _text_ok(body) or len(body) > MAX_BODY:
        raise ValueError("'body' must be text of at most 2000 characters")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("'level' must be low, normal or high")
    return {"user": data["user"], "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    if message.get("text") is None:
        raise ValueError("binary frame")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not an object")
    if not (isinstance(data.get("type"), str) and data["type"] == "ack"):
        raise ValueError("'type' must be 'ack'")
    ids = data.get("ids")
    if not isinstance(ids, list):
        raise ValueError("'ids' must be a list")
    for i in ids:
        if not _text_ok(i):
            raise ValueError("every id must be a string")
    return list(ids)


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notes (user TEXT NOT NULL, seq INTEGER NOT NULL, "
                "id TEXT NOT NULL UNIQUE, title TEXT NOT NULL, body TEXT NOT NULL, "
                "level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, "
                "state TEXT NOT NULL DEFAULT 'pending', PRIMARY KEY (user, seq))")

    def _expire(self, now: float) -> None:
        self.db.execute("UPDATE notes SET state = 'expired' "
                        "WHERE state = 'pending' AND expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self._expire(now)
            (top,) = self.db.execute("SELECT COALESCE(MAX(seq), 0) FROM notes WHERE user = ?",
                                     (user,)).fetchone()
            seq = top + 1
            note = {"id": f"{user}:{seq}", "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.db.execute("INSERT INTO notes (user, seq, id, title, body, level, created_at, "
                            "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (user, seq, note["id"], note["title"], note["body"], note["level"],
                             now, note["expires_at"]))
            keep = self.db.execute("SELECT seq FROM notes WHERE user = ? AND state = 'pending' "
                                   "ORDER BY seq DESC LIMIT 1 OFFSET ?",
                                   (user, max(self.max_per_user - 1, 0))).fetchone()
            if keep is not None:  # the lowest seq we may keep
                self.db.execute("UPDATE notes SET state = 'dropped' WHERE user = ? "
                                "AND state = 'pending' AND seq < ?", (user, keep[0]))
            if self.max_per_user <= 0:
                self.db.execute("UPDATE notes SET state = 'dropped' WHERE user = ? "
                                "AND state = 'pending'", (user,))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self.db:
            self._expire(time.time())
            rows = self.db.execute("SELECT id, seq, user, title, body, level, created_at, "
                                   "expires_at FROM notes WHERE user = ? AND state = 'pending' "
                                   "ORDER BY seq", (user,)).fetchall()
        return [dict(zip(_FIELDS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self.db:
            for i in dict.fromkeys(ids):
                cur = self.db.execute("UPDATE notes SET state = 'acked' WHERE user = ? AND "
                                      "id = ? AND state = 'pending' AND expires_at > ?",
                                      (user, i, now))
                count += cur.rowcount
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
    counted = {"n": 0}

    def lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, note: dict[str, Any]) -> int:
        targets = list(live.get(user, []))
        if not targets:
            return 0
        text = json.dumps({"type": "notification", **note})
        tasks = [asyncio.ensure_future(asyncio.wait_for(ws.send_text(text), send_timeout))
                 for ws in targets]
        await asyncio.wait(tasks)
        reached = 0
        for ws, task in zip(targets, tasks):
            if task.cancelled() or task.exception() is not None:
                if ws in live.get(user, []):
                    live[user].remove(ws)
            else:
                reached += 1
        return reached

    @events.on("notification.created", priority=EventPriority.HIGH)
    def check(n: dict[str, Any]) -> None:
        n.update(validate(n))

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def keep_and_send(n: dict[str, Any]) -> None:
        async with lock(n["user"]):
            note = store.add(n["user"], n)
            n["id"], n["seq"] = note["id"], note["seq"]
            n["delivered"] = await push(n["user"], note)

    @events.on("notification.created", priority=EventPriority.LOW)
    def audit(n: dict[str, Any]) -> None:
        counted["n"] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "body is not UTF-8 JSON"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", notice)
        if "id" not in notice:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not _name_ok(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with lock(user):
                notes = store.pending(user)
                for note in notes:
                    await asyncio.wait_for(
                        ws.send_text(json.dumps({"type": "notification", **note})), send_timeout)
                await asyncio.wait_for(ws.send_text(json.dumps(
                    {"type": "backlog_end", "count": len(notes)})), send_timeout)
                live.setdefault(user, []).append(ws)
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(msg)
                except ValueError as exc:
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}))
                    continue
                n = store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": n}))
        except (WebSocketDisconnect, TimeoutError):
            pass
        finally:
            if ws in live.get(user, []):
                live[user].remove(ws)

    return app
