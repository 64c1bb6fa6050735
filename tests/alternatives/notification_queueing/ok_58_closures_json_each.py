"""Style: closures and pattern matching: autocommit SQLite with explicit BEGIN IMMEDIATE, acks through json_each, tabs keyed by number, pushes with asyncio.wait."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _is_text(value: object) -> bool:
    return isinstance(value, str) and not LONE_SURROGATE.search(value)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    problems = []
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        problems.append("user must be 1-32 characters of A-Z a-z 0-9 _ . -")
    title = data.get("title")
    if not (_is_text(title) and 1 <= len(title) <= MAX_TITLE and not title.isspace()):
        problems.append(f"title must be text of 1-{MAX_TITLE} characters, not all whitespace")
    body = data.get("body", "")
    if not (_is_text(body) and len(body) <= MAX_BODY):
        problems.append(f"body must be text of at most {MAX_BODY} characters")
    level = data.get("level", "normal")
    if not (isinstance(level, str) and level in LEVELS):
        problems.append("level must be exactly low, normal or high")
    if problems:
        raise ValueError("; ".join(problems))
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    match message.get("text"):
        case str(text):
            pass
        case _:
            raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not valid JSON ({type(exc).__name__})") from None
    match data:
        case {"type": str(kind), "ids": list(ids)} if kind == "ack":
            if all(_is_text(i) for i in ids):
                return ids
            raise ValueError("ids must be strings")
        case {"type": str(kind)} if kind == "ack":
            raise ValueError("ids must be a list")
        case _:
            raise ValueError('expected an object {"type": "ack", "ids": [...]}')


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        with self._write():
            self._db.execute("CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, "
                             "user TEXT NOT NULL, seq INTEGER NOT NULL, title TEXT NOT NULL, "
                             "body TEXT NOT NULL, level TEXT NOT NULL, created_at REAL NOT NULL, "
                             "expires_at REAL NOT NULL, UNIQUE (user, seq))")
            self._db.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, "
                             "last INTEGER NOT NULL)")

    @contextmanager
    def _write(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with its id, seq and times."""
        created = time.time()
        with self._write():
            self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (created,))
            (seq,) = self._db.execute(
                "INSERT INTO seqs (user, last) VALUES (?, 1) ON CONFLICT (user) "
                "DO UPDATE SET last = last + 1 RETURNING last", (user,)).fetchall()[0]
            row = (secrets.token_urlsafe(16), seq, user, fields["title"], fields["body"],
                   fields["level"], created, created + self.ttl_seconds)
            self._db.execute("INSERT INTO notes (id, seq, user, title, body, level, created_at, "
                             "expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            self._db.execute(
                "DELETE FROM notes WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER "
                "(ORDER BY seq DESC) AS rank FROM notes WHERE user = ?) WHERE rank > ?)",
                (user, self.max_per_user))
        return dict(zip(COLUMNS, row))

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self._write():
            self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            rows = self._db.execute(f"SELECT {', '.join(COLUMNS)} FROM notes "
                                    "WHERE user = ? ORDER BY seq", (user,)).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; how many distinct ones were this user's pending notifications."""
        if not ids:
            return 0
        with self._write():
            cur = self._db.execute(
                "DELETE FROM notes WHERE user = ? AND expires_at > ? "
                "AND id IN (SELECT value FROM json_each(?))",
                (user, time.time(), json.dumps(list(ids))))
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
    live: dict[str, dict[int, WebSocket]] = {}  # user -> tab number -> socket
    numbers = itertools.count(1)
    locks: dict[str, asyncio.Lock] = {}
    audit_trail: list[tuple[str, int]] = []

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, frame: dict[str, Any]) -> int:
        tabs = dict(live.get(user, {}))
        if not tabs:
            return 0
        text = json.dumps(frame)
        sends = {asyncio.ensure_future(ws.send_text(text)): number
                 for number, ws in tabs.items()}
        done, stalled = await asyncio.wait(sends, timeout=send_timeout)
        for task in stalled:
            task.cancel()
        if stalled:
            await asyncio.gather(*stalled, return_exceptions=True)
        reached = 0
        for task, number in sends.items():
            if task in done and not task.cancelled() and task.exception() is None:
                reached += 1
            else:
                live.get(user, {}).pop(number, None)
        return reached

    def check(notice: dict[str, Any]) -> None:
        cleaned = validate(notice)
        for key, value in cleaned.items():
            notice[key] = value

    async def keep_and_push(notice: dict[str, Any]) -> None:
        user = notice["user"]
        async with lock_of(user):
            note = store.add(user, notice)
            notice["delivered"] = await push(user, {"type": "notification", **note})
        notice["id"], notice["seq"] = note["id"], note["seq"]

    def audit(notice: dict[str, Any]) -> None:
        audit_trail.append((notice["user"], notice.get("seq", 0)))
        del audit_trail[:-1000]

    events.on("notification.created", check, priority=EventPriority.HIGH)
    events.on("notification.created", keep_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": f"invalid JSON: {type(exc).__name__}"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", notice)
        if "seq" not in notice:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({"id": notice["id"], "seq": notice["seq"],
                         "delivered": notice["delivered"]}, status_code=201)

    async def backlog_then_join(ws: WebSocket, user: str, number: int) -> bool:
        async with lock_of(user):
            notes = store.pending(user)
            frames = [{"type": "notification", **n} for n in notes]
            frames.append({"type": "backlog_end", "count": len(notes)})
            for frame in frames:
                try:
                    await asyncio.wait_for(ws.send_json(frame), send_timeout)
                except (Exception, asyncio.TimeoutError):
                    return False
            live.setdefault(user, {})[number] = ws
            return True

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name: 1-32 of A-Z a-z 0-9 _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        number = next(numbers)
        try:
            if not await backlog_then_join(ws, user, number):
                return
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    reply = {"type": "acked", "count": store.ack(user, parse_ack(message))}
                except ValueError as exc:
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    reply = {"type": "error", "code": "bad_frame", "message": str(exc)}
                try:
                    await ws.send_json(reply)
                except Exception:
                    return
        except WebSocketDisconnect:
            pass
        finally:
            tabs = live.get(user)
            if tabs is not None:
                tabs.pop(number, None)
                if not tabs:
                    live.pop(user, None)

    return app
