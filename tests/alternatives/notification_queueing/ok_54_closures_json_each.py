"""Style: plain closures in create_app, tabs keyed by tab number, asyncio.wait fan-out, json_each acks."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import sqlite3
import time
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

COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"
KEYS = tuple(c.strip() for c in COLUMNS.split(","))
DEFAULTS = (("body", ""), ("level", "normal"))


def has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    out: dict[str, Any] = {"user": data.get("user"), "title": data.get("title")}
    for key, default in DEFAULTS:
        out[key] = data[key] if key in data else default
    user, title, body, level = out["user"], out["title"], out["body"], out["level"]
    problems = []
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        problems.append("'user' must be 1-32 characters of [A-Za-z0-9_.-]")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        problems.append(f"'title' must be a string of 1-{MAX_TITLE} characters")
    elif title.isspace() or has_lone_surrogate(title):
        problems.append("'title' must be text with a non-whitespace character")
    if not isinstance(body, str) or len(body) > MAX_BODY or has_lone_surrogate(body):
        problems.append(f"'body' must be text of at most {MAX_BODY} characters")
    if not (isinstance(level, str) and level in LEVELS):
        problems.append("'level' must be one of low, normal, high")
    if problems:
        raise ValueError("; ".join(problems))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message["text"]
    except (KeyError, TypeError):
        text = None
    if type(text) is not str:
        raise ValueError("a binary frame: send JSON text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not valid JSON ({type(exc).__name__})") from None
    if type(frame) is not dict or frame.get("type") != "ack":
        raise ValueError('only {"type": "ack", "ids": [...]} is understood')
    ids = frame.get("ids")
    if type(ids) is not list or any(type(i) is not str or has_lone_surrogate(i) for i in ids):
        raise ValueError("'ids' must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        with self.conn:
            self.conn.execute("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, "
                              "seq INTEGER, user TEXT, title TEXT, body TEXT, level TEXT, "
                              "created_at REAL, expires_at REAL)")
            self.conn.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, "
                              "n INTEGER NOT NULL)")

    def _purge(self, now: float) -> None:
        self.conn.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.conn:
            self._purge(now)
            (seq,) = self.conn.execute(
                "INSERT INTO seqs (user, n) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET n = n + 1 RETURNING n", (user,)).fetchone()
            note = dict(zip(KEYS, (secrets.token_hex(16), seq, user, fields["title"],
                                   fields["body"], fields["level"], now, now + self.ttl_seconds)))
            self.conn.execute(f"INSERT INTO notes ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              tuple(note.values()))
            self.conn.execute(
                "DELETE FROM notes WHERE rowid IN (SELECT rowid FROM (SELECT rowid, "
                "ROW_NUMBER() OVER (ORDER BY seq DESC) AS rank FROM notes WHERE user = ?) "
                "WHERE rank > ?)", (user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self._purge(now)
        cur = self.conn.execute(f"SELECT {COLUMNS} FROM notes WHERE user = ? AND expires_at > ? "
                                "ORDER BY seq", (user, now))
        return [dict(zip(KEYS, row)) for row in cur.fetchall()]

    def ack(self, user: str, ids: list[str]) -> int:
        usable = [i for i in ids if isinstance(i, str) and not has_lone_surrogate(i)]
        with self.conn:
            cur = self.conn.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN "
                "(SELECT value FROM json_each(?))", (user, time.time(), json.dumps(usable)))
        return cur.rowcount


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
    tabs: dict[str, dict[int, WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    numbers = itertools.count(1)
    audit_log: list[tuple[str, int]] = []

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    def forget(task: asyncio.Task[Any]) -> None:
        if not task.cancelled():
            task.exception()

    async def push(user: str, frame: dict[str, Any]) -> int:
        members = dict(tabs.get(user, {}))
        if not members:
            return 0
        text = json.dumps(frame)
        tasks = {asyncio.ensure_future(ws.send_text(text)): number
                 for number, ws in members.items()}
        done, late = await asyncio.wait(tasks, timeout=send_timeout)
        for task in late:
            task.cancel()
            task.add_done_callback(forget)
        reached = [tasks[t] for t in done if t.exception() is None]
        for number in set(members) - set(reached):
            tabs.get(user, {}).pop(number, None)
        return len(reached)

    @events.on("notification.created", priority=EventPriority.HIGH)
    def enrich(notice: dict[str, Any]) -> None:
        notice.update(validate(notice))

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(notice: dict[str, Any]) -> None:
        user = notice["user"]
        async with lock_of(user):
            note = store.add(user, notice)
            reached = await push(user, {"type": "notification", **note})
        notice["id"], notice["seq"], notice["delivered"] = note["id"], note["seq"], reached

    @events.on("notification.created", priority=EventPriority.LOW)
    def audit(notice: dict[str, Any]) -> None:
        audit_log.append((notice["user"], notice.get("seq", 0)))

    def refuse(res: Any, why: str) -> Any:
        return res.json({"error": why}, status_code=422)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
            return refuse(res, f"the body is not UTF-8 JSON ({type(exc).__name__})")
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return refuse(res, str(exc))
        await events.emit("notification.created", notice)
        if "delivered" not in notice:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({k: notice[k] for k in ("id", "seq", "delivered")}, status_code=201)

    async def send_within(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
            return True
        except (TimeoutError, WebSocketDisconnect, OSError, RuntimeError):
            return False

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name: 1-32 of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        number = next(numbers)
        try:
            async with lock_of(user):
                backlog = store.pending(user)
                frames = [{"type": "notification", **n} for n in backlog]
                frames.append({"type": "backlog_end", "count": len(backlog)})
                for frame in frames:
                    if not await send_within(ws, frame):
                        return
                tabs.setdefault(user, {})[number] = ws
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                else:
                    await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except WebSocketDisconnect:
            pass
        finally:
            tabs.get(user, {}).pop(number, None)

    return app
