"""Style: one Session object per WebSocket connection (backlog, live pushes and the frame loop are its methods), validation only in the HIGH listener, which marks a refused payload "rejected" with what is wrong (no exception, so no traceback in the log), an explicit-transaction Store (autocommit connection, BEGIN IMMEDIATE) whose acks go through a TEMP table filled with executemany, and sends bounded with asyncio.timeout.

Follows: "Validate in the route before the emit, or only in the HIGH listener" (check_notification puts the message of validate's ValueError in the payload's rejected key; store_and_push skips such a payload, so "a refused notification is never stored and uses no `seq`", and the route answers 422 with that message); "Never a 500 and never a traceback, whatever the body holds." (strict UTF-8 decode; ValueError and RecursionError are 422 before any emit, a JSON value that is not an object too); "`seq` increases by one per user and is never reused, not even after acknowledgements, expiry or a restart" (a seq_counters row per user, bumped in the BEGIN IMMEDIATE transaction that inserts the row, committed before the push); "when a new one would exceed the cap, the **oldest (lowest seq) is dropped**" (a ranked DELETE after each insert); "it is expired once `expires_at <= time.time()`" (every read and ack filters on the stored expires_at); "an id given twice counts once" and "The list has no length limit" (the ids go into a TEMP table by executemany, one DELETE joins it on user and expires_at); "Only after `backlog_end` may live notifications arrive" and "Every open tab of the user receives every live notification." (a per-user asyncio.Lock; a Session joins the live set only after its backlog_end); "drops that tab from the live ones: no later push tries it" and "`send_timeout` bounds each send, not the whole backlog" (asyncio.timeout around each single send; a failed Session leaves the live set for good); "the server answers that tab (not the user's other tabs)"; "the connection **stays open**" and "A normal disconnect is not an error".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
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


def _has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _problems(data: dict[str, Any]):  # type: ignore[no-untyped-def]
    """Yield what is wrong with ``data``, first problem first."""
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        yield "user must be 1-32 characters of [A-Za-z0-9_.-]"
    if "title" not in data:
        yield "title is required"
    title = data.get("title")
    if not isinstance(title, str):
        yield "title must be a string"
    elif not 1 <= len(title) <= MAX_TITLE:
        yield f"title must be 1-{MAX_TITLE} characters"
    elif not title.strip():
        yield "title must not be only whitespace"
    elif _has_lone_surrogate(title):
        yield "title holds a lone surrogate"
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str):
            yield "body must be a string"
        elif len(body) > MAX_BODY:
            yield f"body must be at most {MAX_BODY} characters"
        elif _has_lone_surrogate(body):
            yield "body holds a lone surrogate"
    if "level" in data and (not isinstance(data["level"], str) or data["level"] not in LEVELS):
        yield "level must be exactly 'low', 'normal' or 'high'"


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    for problem in _problems(data):
        raise ValueError(problem)
    return {"user": data["user"], "title": data["title"],
            "body": data["body"] if "body" in data else "",
            "level": data["level"] if "level" in data else "normal"}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("only text frames holding JSON are accepted")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ValueError("the frame must be a JSON object with a type")
    if frame["type"] != "ack":
        raise ValueError('the only frame type accepted is "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    if not all(isinstance(i, str) and not _has_lone_surrogate(i) for i in ids):
        raise ValueError("ids must hold strings only")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._write(
            "CREATE TABLE IF NOT EXISTS queued (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
            " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
            " created_at REAL NOT NULL, expires_at REAL NOT NULL, UNIQUE (user, seq))",
            "CREATE TABLE IF NOT EXISTS seq_counters (user TEXT PRIMARY KEY,"
            " last INTEGER NOT NULL)",
        )

    def _write(self, *statements: str) -> None:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for sql in statements:
                self.db.execute(sql)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute("SELECT last FROM seq_counters WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            self.db.execute("INSERT OR REPLACE INTO seq_counters (user, last) VALUES (?, ?)",
                            (user, seq))
            note = dict(zip(self.COLUMNS, (
                str(uuid.uuid4()), seq, user, fields["title"], fields.get("body", ""),
                fields.get("level", "normal"), now, now + self.ttl_seconds)))
            self.db.execute(
                "INSERT INTO queued (id, seq, user, title, body, level, created_at, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(note.values()))
            self.db.execute("DELETE FROM queued WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM queued WHERE user = ? AND seq IN (SELECT seq FROM queued"
                " WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                (user, user, self.max_per_user))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self.db.execute("DELETE FROM queued WHERE user = ? AND expires_at <= ?", (user, now))
        rows = self.db.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM queued"
            " WHERE user = ? AND expires_at > ? ORDER BY seq ASC", (user, now)).fetchall()
        return [dict(zip(self.COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute("CREATE TEMP TABLE IF NOT EXISTS ack_ids (id TEXT PRIMARY KEY)")
            self.db.execute("DELETE FROM ack_ids")
            self.db.executemany("INSERT OR IGNORE INTO ack_ids (id) VALUES (?)",
                                ((i,) for i in ids))
            count = self.db.execute(
                "DELETE FROM queued WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT id FROM ack_ids)", (user, now)).rowcount
            self.db.execute("DELETE FROM ack_ids")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return count


class Session:
    """One open WebSocket of one user: its backlog, its live pushes, its frames."""

    def __init__(self, hub: Hub, ws: WebSocket, user: str) -> None:
        self.hub = hub
        self.ws = ws
        self.user = user

    async def send(self, frame: dict[str, Any]) -> None:
        async with asyncio.timeout(self.hub.send_timeout):
            await self.ws.send_text(json.dumps(frame))

    async def push(self, frame: dict[str, Any]) -> bool:
        """A live push; False (and this session is no longer live) if it failed or stalled."""
        try:
            await self.send(frame)
        except Exception:  # noqa: BLE001
            self.hub.live.get(self.user, set()).discard(self)
            return False
        return True

    async def catch_up(self) -> None:
        async with self.hub.lock(self.user):
            backlog = self.hub.store.pending(self.user)
            for note in backlog:
                await self.send({"type": "notification", **note})
            await self.send({"type": "backlog_end", "count": len(backlog)})
            self.hub.live.setdefault(self.user, set()).add(self)

    async def serve(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                ids = parse_ack(message)
            except ValueError as exc:
                await self.send({"type": "error", "code": "bad_frame", "message": str(exc)})
                await self.hub.app.events.emit("ws.error", {"user": self.user, "error": str(exc)})
                continue
            await self.send({"type": "acked", "count": self.hub.store.ack(self.user, ids)})

    def close(self) -> None:
        mine = self.hub.live.get(self.user)
        if mine is not None:
            mine.discard(self)
            if not mine:
                del self.hub.live[self.user]


class Hub:
    """What the app keeps: the store, the live sessions per user, a lock per user."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.store = store
        self.send_timeout = send_timeout
        self.live: dict[str, set[Session]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audit_log: list[tuple[str, int, int]] = []

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def check_notification(self, note: dict[str, Any]) -> None:
        """HIGH: validate and enrich (defaults), or mark the payload rejected with why."""
        try:
            accepted = validate(note)
        except ValueError as exc:
            note["rejected"] = str(exc) or "the notification was refused"
            return
        note.clear()
        note.update(accepted)

    async def store_and_push(self, note: dict[str, Any]) -> None:
        """MEDIUM: commit, then push to every live session of the user."""
        if note.get("rejected"):
            return
        async with self.lock(note["user"]):
            stored = self.store.add(note["user"], note)
            note.update(stored)
            sessions = list(self.live.get(note["user"], ()))
            frame = {"type": "notification", **stored}
            results = await asyncio.gather(*(s.push(frame) for s in sessions))
            note["delivered"] = sum(results)

    def audit(self, note: dict[str, Any]) -> None:
        """LOW: remember what was created and how many tabs it reached."""
        if not note.get("rejected"):
            self.audit_log.append((note["user"], note["seq"], note["delivered"]))


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
    hub = Hub(app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
              send_timeout)
    app.events.on("notification.created", hub.check_notification, priority=EventPriority.HIGH)
    app.events.on("notification.created", hub.store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", hub.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "the notification must be a JSON object"}, status_code=422)
        note = dict(data)
        await app.events.emit("notification.created", note)
        if note.get("rejected") or "id" not in note:
            return res.json({"error": note.get("rejected") or "the notification was refused"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "user must be 1-32 of [A-Za-z0-9_.-]"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        session = Session(hub, ws, user)
        try:
            await session.catch_up()
            await session.serve()
        except Exception:  # noqa: BLE001 - the client left (maybe mid-backlog), or a dead tab
            pass
        finally:
            session.close()

    return app
