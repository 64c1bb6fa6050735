"""Exercise 4: notification_queueing. Functional style: a Store that opens a connection per operation in a thread, listener-side validation, and a Live dataclass for tabs and per-user locks.

BUG (planted): "Only after `backlog_end` may live notifications arrive, in the same
frame shape. Every open tab of the user receives every live notification." This
version means to hold one ``asyncio.Lock`` per user around "store, then push" and
"backlog, backlog_end, then join the live tabs", but ``Live.lock`` looks the lock up
with ``self.locks.get(user, asyncio.Lock())``: the default is a brand-new lock made
for that one call and never stored, so every caller locks its own private lock and
nothing is excluded. A notification POSTed while a tab is still receiving its backlog
is missing from that backlog (read before) and is not pushed to the tab (not live
yet): the open tab never receives it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
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

FIELDS = ("user", "title", "body", "level")
COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


def _is_text(value: str) -> bool:
    """False when ``value`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("'user' must be 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'")
    title = data.get("title")
    if not isinstance(title, str) or not title or len(title) > MAX_TITLE:
        raise ValueError(f"'title' must be a string of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("'title' is blank")
    if not _is_text(title):
        raise ValueError("'title' is not valid text (lone surrogate)")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"'body' must be a string of at most {MAX_BODY} characters")
    if not _is_text(body):
        raise ValueError("'body' is not valid text (lone surrogate)")
    level = data["level"] if "level" in data else "normal"
    if type(level) is not str or level not in LEVELS:
        raise ValueError("'level' must be one of 'low', 'normal', 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def _frame_ids(message: Any) -> list[str]:
    if not isinstance(message, dict) or message.get("text") is None:
        raise ValueError("binary frame")
    text = message["text"]
    if not isinstance(text, str):
        raise ValueError("binary frame")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(frame, dict):
        raise ValueError("not a JSON object")
    kind = frame.get("type")
    if not isinstance(kind, str) or kind != "ack":
        raise ValueError("unknown frame type")
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("'ids' must be a list")
    for one in ids:
        if not isinstance(one, str) or not _is_text(one):
            raise ValueError("'ids' must hold strings only")
    return ids


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        return _frame_ids(message)
    except ValueError:
        raise
    except BaseException as exc:  # RecursionError, MemoryError...: still a bad frame
        if not isinstance(exc, Exception):
            raise
        raise ValueError("malformed frame") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with self._connect() as db:
            db.executescript(SCHEMA)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            yield db
        finally:
            db.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self._write() as db:
            row = db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO last_seq (user, seq) VALUES (?, ?)", (user, seq))
            note = {
                "id": f"{secrets.token_hex(8)}-{time.time_ns():x}",
                "seq": seq,
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now,
                "expires_at": now + self.ttl_seconds,
            }
            db.execute(f"INSERT INTO queue ({', '.join(COLUMNS)}) VALUES "
                       f"({', '.join('?' * len(COLUMNS))})", [note[c] for c in COLUMNS])
            kept = db.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (user, max(self.max_per_user - 1, 0))).fetchone()
            if kept is not None:
                db.execute("DELETE FROM queue WHERE user = ? AND seq < ?", (user, kept[0]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._write() as db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM queue"
                " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = sorted(set(ids))
        if not distinct:
            return 0
        now = time.time()
        removed = 0
        with self._write() as db:
            db.execute("CREATE TEMP TABLE IF NOT EXISTS acking (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM acking")
            db.executemany("INSERT OR IGNORE INTO acking (id) VALUES (?)",
                           [(i,) for i in distinct])
            removed = db.execute(
                "DELETE FROM queue WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT id FROM acking)", (user, now)).rowcount
            db.execute("DELETE FROM acking")
        return removed


@dataclass
class Live:
    """The live tabs of ONE app, and a lock per user."""

    send_timeout: float
    tabs: dict[str, list[WebSocket]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, user: str) -> asyncio.Lock:
        """The user's lock: "store, then push" and "backlog, then live" never overlap."""
        return self.locks.get(user, asyncio.Lock())

    def drop(self, user: str, ws: WebSocket) -> None:
        tabs = self.tabs.get(user, [])
        if ws in tabs:
            tabs.remove(ws)

    async def push(self, user: str, text: str) -> int:
        targets = list(self.tabs.get(user, []))
        if not targets:
            return 0
        sends = {asyncio.ensure_future(ws.send_text(text)): ws for ws in targets}
        done, late = await asyncio.wait(sends, timeout=self.send_timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        reached = 0
        for task, ws in sends.items():
            if task in done and not task.cancelled() and task.exception() is None:
                reached += 1
            else:
                self.drop(user, ws)
        return reached


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
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live = Live(send_timeout)
    log: list[tuple[str, int]] = []

    @bus.on("notification.created", priority=EventPriority.HIGH)
    def enrich(note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except ValueError:
            note["rejected"] = True
            raise
        note.update(accepted)

    @bus.on("notification.created", priority=EventPriority.MEDIUM)
    async def deliver(note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        fields = {k: note[k] for k in FIELDS}
        user = fields["user"]
        async with live.lock(user):
            stored = await asyncio.to_thread(store.add, user, fields)
            note.update(id=stored["id"], seq=stored["seq"])
            note["delivered"] = await live.push(
                user, json.dumps({"type": "notification", **stored}))

    @bus.on("notification.created", priority=EventPriority.LOW)
    def audit(note: dict[str, Any]) -> None:
        if not note.get("rejected") and "id" in note:
            log.append((note["user"], note["seq"]))

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            return res.json({"error": "the body is not UTF-8"}, status_code=422)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not valid JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note = {k: data[k] for k in FIELDS if k in data}
        result = await bus.emit("notification.created", note)
        if "id" in note:
            return res.json({"id": note["id"], "seq": note["seq"],
                             "delivered": note.get("delivered", 0)}, status_code=201)
        refusal = next((e for e in result.errors if isinstance(e, ValueError)), None)
        return res.json({"error": str(refusal) if refusal else "not stored"}, status_code=422)

    async def send_bounded(ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)

    @app.ws_route("/notifications/{user}")
    async def subscribe(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            with contextlib.suppress(Exception):
                await send_bounded(ws, {"type": "error", "code": "bad_request",
                                        "message": f"bad user name: {user!r}"})
                await asyncio.wait_for(ws.close(code=BAD_REQUEST_CLOSE), send_timeout)
            return
        try:
            async with live.lock(user):
                backlog = await asyncio.to_thread(store.pending, user)
                for note in backlog:
                    await send_bounded(ws, {"type": "notification", **note})
                await send_bounded(ws, {"type": "backlog_end", "count": len(backlog)})
                live.tabs.setdefault(user, []).append(ws)
        except Exception:
            return  # left (or stopped reading) during the backlog: never live
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    with contextlib.suppress(Exception):
                        await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = await asyncio.to_thread(store.ack, user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except Exception:
            return  # the connection is gone
        finally:
            live.drop(user, ws)

    return app
