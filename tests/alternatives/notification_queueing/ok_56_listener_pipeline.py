"""Style: lesson-7 pipeline (the HIGH listener validates and marks `rejected`), explicit BEGIN IMMEDIATE transactions, sequential sends."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

LONE_SURROGATE = re.compile("[\ud800-\udfff]")
CLIENT_FIELDS = ("user", "title", "body", "level")
ROW = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def read_json(text: str) -> Any:
    try:
        return json.loads(text)
    except RecursionError as exc:
        raise ValueError("too deeply nested") from exc


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    problems = []
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        problems.append("'user' must be 1-32 of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not isinstance(title, str) or LONE_SURROGATE.search(title):
        problems.append("'title' must be text")
    elif len(title) == 0 or len(title) > MAX_TITLE or not title.strip():
        problems.append(f"'title' must be 1-{MAX_TITLE} characters, not only whitespace")
    body = data.get("body", "")
    if not isinstance(body, str) or LONE_SURROGATE.search(body) or len(body) > MAX_BODY:
        problems.append(f"'body' must be text of at most {MAX_BODY} characters")
    level = data.get("level", "normal")
    if not any(level == name and type(level) is str for name in LEVELS):
        problems.append("'level' must be low, normal or high")
    if problems:
        raise ValueError("; ".join(problems))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if message.get("text") is None:
        raise ValueError("a binary frame: send JSON text")
    try:
        data = read_json(message["text"])
    except ValueError as exc:
        raise ValueError(f"bad JSON ({exc})") from None
    if type(data) is not dict:
        raise ValueError("the frame must be a JSON object")
    if data.get("type") != "ack":
        raise ValueError("unknown frame type: only ack is accepted")
    ids = data.get("ids")
    if type(ids) is not list or any(
            not isinstance(i, str) or LONE_SURROGATE.search(i) for i in ids):
        raise ValueError("'ids' must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        with self.transaction():
            self.db.execute("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, "
                            "user TEXT, seq INTEGER, title TEXT, body TEXT, level TEXT, "
                            "created_at REAL, expires_at REAL)")
            self.db.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, n INTEGER)")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        now = time.time()
        with self.transaction():
            self._purge(now)
            self.db.execute("INSERT INTO seqs (user, n) VALUES (?, 1) "
                            "ON CONFLICT (user) DO UPDATE SET n = n + 1", (user,))
            (seq,) = self.db.execute("SELECT n FROM seqs WHERE user = ?", (user,)).fetchone()
            row = (uuid.uuid4().hex, seq, user, fields["title"], fields["body"],
                   fields["level"], now, now + self.ttl_seconds)
            self.db.execute("INSERT INTO notes (id, seq, user, title, body, level, created_at, "
                            "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            (count,) = self.db.execute("SELECT COUNT(*) FROM notes WHERE user = ?",
                                       (user,)).fetchone()
            if count > self.max_per_user:
                self.db.execute("DELETE FROM notes WHERE user = ? AND seq IN (SELECT seq FROM "
                                "notes WHERE user = ? ORDER BY seq LIMIT ?)",
                                (user, user, count - self.max_per_user))
        return dict(zip(ROW, row))

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self.transaction():
            self._purge(now)
            rows = self.db.execute(f"SELECT {', '.join(ROW)} FROM notes WHERE user = ? "
                                   "AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(ROW, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; how many distinct ones were this user's pending notifications."""
        distinct = list(dict.fromkeys(ids))
        now = time.time()
        if not distinct:
            return 0
        with self.transaction():
            cur = self.db.executemany(
                "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                ((i, user, now) for i in distinct))
            removed = cur.rowcount
        return removed


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with ``POST /notifications`` and the ``/notifications/{user}`` WebSocket."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    open_tabs: dict[str, list[WebSocket]] = collections.defaultdict(list)
    user_locks: dict[str, asyncio.Lock] = collections.defaultdict(asyncio.Lock)
    audit_log: collections.deque[tuple[str, int, int]] = collections.deque(maxlen=1000)

    async def deliver(user: str, note: dict[str, Any]) -> int:
        """Send to each live tab in turn (each send bounded); drop the ones that fail."""
        text = json.dumps({"type": "notification", **note})
        reached = 0
        for ws in list(open_tabs[user]):
            try:
                await asyncio.wait_for(ws.send_text(text), send_timeout)
            except Exception:
                if ws in open_tabs[user]:
                    open_tabs[user].remove(ws)
            else:
                reached += 1
        return reached

    @bus.on("notification.created", priority=EventPriority.HIGH)
    def check(notice: dict[str, Any]) -> None:
        try:
            clean = validate(notice)
        except ValueError as exc:
            notice["rejected"] = True
            notice["error"] = str(exc)
            raise
        notice.update(clean)

    @bus.on("notification.created", priority=EventPriority.MEDIUM)
    async def keep_and_push(notice: dict[str, Any]) -> None:
        if notice.get("rejected"):
            return
        user = notice["user"]
        async with user_locks[user]:
            note = store.add(user, notice)
            reached = await deliver(user, note)
        notice.update(id=note["id"], seq=note["seq"], delivered=reached)

    @bus.on("notification.created", priority=EventPriority.LOW)
    def audit(notice: dict[str, Any]) -> None:
        if not notice.get("rejected") and "seq" in notice:
            audit_log.append((notice["user"], notice["seq"], notice["delivered"]))

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        body = await req.body
        try:
            data = read_json(body.decode("utf-8"))
        except ValueError as exc:
            return res.json({"error": f"the body is not JSON text in UTF-8: {exc}"},
                            status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "the body must be a JSON object"}, status_code=422)
        notice: dict[str, Any] = {k: data[k] for k in CLIENT_FIELDS if k in data}
        await bus.emit("notification.created", notice)
        if notice.get("rejected"):
            return res.json({"error": notice["error"]}, status_code=422)
        if "id" not in notice:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": f"bad user name {user!r}"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with user_locks[user]:
                backlog = store.pending(user)
                try:
                    for note in backlog:
                        await asyncio.wait_for(ws.send_json({"type": "notification", **note}),
                                               send_timeout)
                    await asyncio.wait_for(
                        ws.send_json({"type": "backlog_end", "count": len(backlog)}),
                        send_timeout)
                except TimeoutError:
                    return
                open_tabs[user].append(ws)
                joined = True
            while True:
                message = await ws.receive()
                if message["type"] != "websocket.receive":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                else:
                    count = store.ack(user, ids)
                    await ws.send_json({"type": "acked", "count": count})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            if joined and ws in open_tabs[user]:
                open_tabs[user].remove(ws)

    return app
