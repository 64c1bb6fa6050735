"""Bug: the push drops failed tabs in a done-callback lambda that closes over the loop variable `ws`, so it drops the LAST tab of the list, not the one whose send failed.

Breaks: "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab from the live ones: no later push tries it" ... e.g. ann has a stalled tab A (connected first) and a healthy tab B: the first POST answers delivered 1 (right) but the callbacks run after the loop, when `ws` is B, so B is dropped and A stays live; the next POST waits send_timeout on A again and B never receives it ("Every open tab of the user receives every live notification")."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
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


def _is_text(value: str) -> bool:
    """False for a string holding a lone surrogate (no UTF-8 can carry it)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title")
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be a string of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if not _is_text(title):
        raise ValueError("title holds a lone surrogate")
    body = ""
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str) or len(body) > MAX_BODY:
            raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
        if not _is_text(body):
            raise ValueError("body holds a lone surrogate")
    level = "normal"
    if "level" in data:
        level = data["level"]
        if not isinstance(level, str) or level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict):
        raise ValueError("not a WebSocket message")
    if message.get("bytes") is not None:
        raise ValueError("binary frames are not accepted")
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("the frame holds no text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON: {type(exc).__name__}") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('the frame must be an object whose type is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if not all(_is_text(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return list(ids)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_by_user ON notifications (user, seq);
CREATE TABLE IF NOT EXISTS sequences (user TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
"""

_COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._db.executescript(_SCHEMA)

    def _write(self, work: Any) -> Any:
        """Run ``work()`` in one committed transaction."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work()
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def _purge(self, now: float) -> None:
        self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        created_at = time.time()
        note = {
            "id": uuid.uuid4().hex,
            "seq": 0,
            "user": user,
            "title": fields["title"],
            "body": fields.get("body", ""),
            "level": fields.get("level", "normal"),
            "created_at": created_at,
            "expires_at": created_at + self.ttl_seconds,
        }

        def work() -> None:
            self._purge(created_at)
            self._db.execute(
                "INSERT INTO sequences (user, last_seq) VALUES (?, 1) "
                "ON CONFLICT(user) DO UPDATE SET last_seq = last_seq + 1",
                (user,),
            )
            (note["seq"],) = self._db.execute(
                "SELECT last_seq FROM sequences WHERE user = ?", (user,)
            ).fetchone()
            self._db.execute(
                f"INSERT INTO notifications ({', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[c] for c in _COLUMNS),
            )
            self._db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )

        self._write(work)
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()

        def work() -> list[tuple[Any, ...]]:
            self._purge(now)
            return self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM notifications "
                "WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()

        return [dict(zip(_COLUMNS, row)) for row in self._write(work)]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return 0
        now = time.time()

        def work() -> int:
            self._purge(now)
            cursor = self._db.executemany(
                "DELETE FROM notifications WHERE user = ? AND id = ?",
                [(user, i) for i in wanted],
            )
            return max(cursor.rowcount, 0)

        count: int = self._write(work)
        return count


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
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit: list[tuple[str, int, int]] = []
    app.store = store
    app.audit = audit

    def lock_for(user: str) -> asyncio.Lock:
        lock = locks.get(user)
        if lock is None:
            lock = locks[user] = asyncio.Lock()
        return lock

    async def send(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
        except Exception:
            return False
        return True

    def drop(user: str, ws: WebSocket) -> None:
        tabs = live.get(user)
        if tabs is not None and ws in tabs:
            tabs.remove(ws)
            if not tabs:
                del live[user]

    async def push(user: str, frame: dict[str, Any]) -> int:
        tabs = list(live.get(user, ()))
        if not tabs:
            return 0
        text = json.dumps(frame)
        sends = []
        for ws in tabs:
            task = asyncio.ensure_future(send(ws, text))
            # a tab whose send failed leaves the live ones as soon as its send is over
            task.add_done_callback(lambda done: done.result() or drop(user, ws))
            sends.append(task)
        results = await asyncio.gather(*sends)
        return sum(1 for ok in results if ok)


    def enrich(note: dict[str, Any]) -> None:
        note.pop("rejected", None)
        try:
            note.update(validate(note))
        except ValueError:
            note["rejected"] = True
            raise

    async def store_and_push(note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        user = note["user"]
        async with lock_for(user):
            stored = store.add(user, note)
            note.update(stored)
            note["delivered"] = await push(user, {"type": "notification", **stored})

    def record(note: dict[str, Any]) -> None:
        if note.get("rejected") or "seq" not in note:
            return
        audit.append((note["user"], note["seq"], note.get("delivered", 0)))

    bus.on("notification.created", enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", record, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = dict(validate(data))
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await bus.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            try:
                await ws.send_json(
                    {"type": "error", "code": "bad_request", "message": "bad user name"}
                )
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with lock_for(user):
                backlog = store.pending(user)
                for row in backlog:
                    if not await send(ws, json.dumps({"type": "notification", **row})):
                        return
                end = {"type": "backlog_end", "count": len(backlog)}
                if not await send(ws, json.dumps(end)):
                    return
                live.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    error = str(exc)
                    await send(ws, json.dumps(
                        {"type": "error", "code": "bad_frame", "message": error}
                    ))
                    await bus.emit("ws.error", {"user": user, "error": error})
                    continue
                count = store.ack(user, ids)
                await send(ws, json.dumps({"type": "acked", "count": count}))
        except Exception:
            return  # the client went away: a normal end, not an error
        finally:
            drop(user, ws)

    return app
