"""OK variant (style: a ``Store`` that opens a short-lived sqlite3 connection per
call (``contextlib.closing`` + ``with db:`` transactions, ``PRAGMA
journal_mode=WAL``), a ``users`` table holding each user's last seq, ids from
``secrets.token_hex``, columns for title/body/level; a ``Hub`` class for the live
tabs whose push uses ``asyncio.wait`` on tasks; the route reads ``await
req.json`` inside a try; listeners registered with decorators).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import sqlite3
import time
from typing import Any

import day25
from day25 import EventPriority
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise ValueError("expected a JSON object")
    errors = []
    user, title = data.get("user"), data.get("title")
    body, level = data.get("body", ""), data.get("level", "normal")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        errors.append("user: 1-32 characters of [A-Za-z0-9_.-]")
    if not (isinstance(title, str) and 0 < len(title) <= MAX_TITLE and not title.isspace()):
        errors.append(f"title: 1-{MAX_TITLE} characters, not only whitespace")
    if not (isinstance(body, str) and len(body) <= MAX_BODY):
        errors.append(f"body: a string of at most {MAX_BODY} characters")
    if level not in LEVELS or not isinstance(level, str):
        errors.append("level: low, normal or high")
    if errors:
        raise ValueError("; ".join(errors))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        raw = message["text"]
        if raw is None:
            raise KeyError("text")
    except (KeyError, TypeError):
        raise ValueError("only text frames are accepted") from None
    try:
        frame = json.loads(raw)
    except Exception:
        raise ValueError("invalid JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("a frame is a JSON object")
    if frame.get("type") != "ack":
        raise ValueError("the only frame a client sends is an ack")
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not isinstance(item, str):
            raise ValueError("every id must be a string")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        with self._connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(
                "CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);"
                "CREATE TABLE IF NOT EXISTS queue (id TEXT UNIQUE NOT NULL, user TEXT NOT NULL,"
                " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL, PRIMARY KEY (user, seq));")

    @contextlib.contextmanager
    def _connect(self):
        db = sqlite3.connect(self.path, timeout=10)
        try:
            yield db
        finally:
            db.close()

    @staticmethod
    def _text(value: str) -> str:
        # sqlite stores UTF-8: keep a string that has lone surrogates as its escaped form
        try:
            value.encode("utf-8")
            return "T" + value
        except UnicodeEncodeError:
            return "J" + json.dumps(value)

    @staticmethod
    def _untext(value: str) -> str:
        return value[1:] if value[:1] == "T" else json.loads(value[1:])

    def _note(self, row: tuple[Any, ...]) -> dict[str, Any]:
        nid, user, seq, title, body, level, created, expires = row
        return {"id": nid, "seq": seq, "user": user, "title": self._untext(title),
                "body": self._untext(body), "level": level,
                "created_at": created, "expires_at": expires}

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        expires = created + self.ttl
        nid = secrets.token_hex(16)
        with self._connect() as db, db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (created,))
            row = db.execute("SELECT last_seq FROM users WHERE name = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO users (name, last_seq) VALUES (?, ?)", (user, seq))
            db.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (nid, user, seq, self._text(fields["title"]),
                        self._text(fields.get("body", "")), fields.get("level", "normal"),
                        created, expires))
            db.execute("DELETE FROM queue WHERE user = ? AND seq IN (SELECT seq FROM queue "
                       "WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)", (user, user, self.cap))
        return {"id": nid, "seq": seq, "user": user, "title": fields["title"],
                "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                "created_at": created, "expires_at": expires}

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._connect() as db, db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT id, user, seq, title, body, level, created_at, expires_at "
                              "FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq ASC",
                              (user, now)).fetchall()
        return [self._note(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = []
        for i in dict.fromkeys(ids):
            try:
                i.encode("utf-8")
            except UnicodeEncodeError:
                continue  # no stored id looks like that
            wanted.append(i)
        if not wanted:
            return 0
        now = time.time()
        with self._connect() as db, db:
            deleted = 0
            for i in wanted:
                deleted += db.execute("DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                                      (i, user, now)).rowcount
        return deleted


class Hub:
    """Each user's live tabs (those past their backlog_end)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.tabs: dict[str, dict[Any, None]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    def add(self, user: str, ws: Any) -> None:
        self.tabs.setdefault(user, {})[ws] = None

    def remove(self, user: str, ws: Any) -> None:
        tabs = self.tabs.get(user, {})
        tabs.pop(ws, None)
        if not tabs:
            self.tabs.pop(user, None)

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        tabs = list(self.tabs.get(user, {}))
        if not tabs:
            return 0
        text = json.dumps(frame)
        tasks = {asyncio.ensure_future(ws.send_text(text)): ws for ws in tabs}
        done, pending = await asyncio.wait(tasks, timeout=self.timeout)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        reached = 0
        for task, ws in tasks.items():
            if task in done and not task.cancelled() and task.exception() is None:
                reached += 1
            else:
                self.remove(user, ws)
        return reached


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The notification service of ``docs/exercises/notification_queueing.md``."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    hub = Hub(send_timeout)
    audit_log: list[tuple[str, int]] = []

    @events.on("notification.created", priority=EventPriority.HIGH)
    def fill_defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def save_and_push(note: dict[str, Any]) -> None:
        async with hub.lock(note["user"]):
            saved = store.add(note["user"], note)
            note.update(id=saved["id"], seq=saved["seq"])
            note["delivered"] = await hub.push(note["user"], {"type": "notification", **saved})

    @events.on("notification.created", priority=EventPriority.LOW)
    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note["user"], note.get("delivered", 0)))
        del audit_log[:-1000]

    @app.post("/notifications")
    async def post_notification(req, res):
        try:
            data = await req.json
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not valid JSON"}, status_code=422)
        try:
            note = validate(data)
        except ValueError as problem:
            return res.json({"error": str(problem)}, status_code=422)
        await events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "storing failed"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            try:
                await ws.send_json({"type": "error", "code": "bad_request", "message": "bad user name"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with hub.lock(user):
                backlog = store.pending(user)
                async with asyncio.timeout(send_timeout * (len(backlog) + 1)):
                    for note in backlog:
                        await ws.send_text(json.dumps({"type": "notification", **note}))
                    await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
                hub.add(user, ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as problem:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(problem)})
                    await events.emit("ws.error", {"user": user, "error": str(problem)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except WebSocketDisconnect:
            return
        except Exception:
            return  # a dead tab: gone, not an error
        finally:
            hub.remove(user, ws)

    return app
