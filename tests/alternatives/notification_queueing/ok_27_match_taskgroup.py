"""Style: structural pattern matching for the input, explicit BEGIN IMMEDIATE transactions with a window-function cap, and a Service class that fans pushes out with asyncio.TaskGroup.

Follows: "`user` | 1-32 characters of `[A-Za-z0-9_.-]`" (a `case "user", str()` guard with NAME.fullmatch),
"`title` | text of 1-200 characters, not only whitespace" (`len` as given, `isspace`),
"A default is for a **missing** field only" (defaults only when the key is absent; `null`/`""` fall to `case _`),
"Other fields are ignored" (only the four fields are copied), lone surrogates refused in title, body and ids,
"Invalid JSON ... **422** ... **nothing is stored**" (json.loads of the bytes, ValueError and RecursionError -> 422, before any emit),
"HIGH validate/enrich (defaults), MEDIUM store and push ..., LOW audit" (three listeners registered once in create_app),
"`seq` increases by one per user and is never reused" (a counters table, bumped with UPDATE ... RETURNING inside BEGIN IMMEDIATE; rows are deleted, counters never),
"expired once `expires_at <= time.time()`" (every read and ack filters on the stored expires_at),
"the **oldest (lowest seq) is dropped**" (ROW_NUMBER() OVER (ORDER BY seq DESC) > max_per_user),
"a notification is committed to SQLite before it is pushed" (COMMIT, then the TaskGroup),
"Backlog first ... Then live" and "a tab still receiving its backlog ... does not count" (one asyncio.Lock per user around backlog + join, and around store + push),
"a push to a tab that fails, or takes longer than `send_timeout` ... drops that tab" (asyncio.timeout per tab, concurrent, so a stalled tab costs one send_timeout),
"A malformed frame ... gets exactly {"type": "error", "code": "bad_frame", ...} ... emits `ws.error` ... the connection **stays open**" and "A normal disconnect is not an error" (the websocket.disconnect message ends the loop; send failures are not reported).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
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

DEFAULTS = {"body": "", "level": "normal"}
PROBLEMS = {
    "user": "user must be 1-32 characters of [A-Za-z0-9_.-]",
    "title": f"title must be text of 1-{MAX_TITLE} characters, not only whitespace",
    "body": f"body must be text of at most {MAX_BODY} characters",
    "level": "level must be exactly 'low', 'normal' or 'high'",
}


def _surrogate_free(text: str) -> bool:
    return not any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    match data:
        case dict():
            pass
        case _:
            raise ValueError("the notification must be a JSON object")
    accepted: dict[str, str] = {}
    for name in ("user", "title", "body", "level"):
        if name not in data:
            if name not in DEFAULTS:
                raise ValueError(f"{name} is required")
            accepted[name] = DEFAULTS[name]
            continue
        value = data[name]
        match name, value:
            case "user", str() if NAME.fullmatch(value):
                pass
            case "title", str() if 1 <= len(value) <= MAX_TITLE and not value.isspace():
                pass
            case "body", str() if len(value) <= MAX_BODY:
                pass
            case "level", str() if value in LEVELS:
                pass
            case _:
                raise ValueError(PROBLEMS[name])
        if not _surrogate_free(value):
            raise ValueError(f"{name} holds a lone surrogate")
        accepted[name] = value
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    match message:
        case {"text": str(text)}:
            pass
        case _:
            raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    match frame:
        case {"type": "ack", "ids": list(ids)} if all(
            isinstance(i, str) and _surrogate_free(i) for i in ids
        ):
            return ids
        case {"type": "ack"}:
            raise ValueError("ids must be a list of strings")
        case _:
            raise ValueError('expected {"type": "ack", "ids": [...]}')


COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = max(int(max_per_user), 0)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        with self._transaction():
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS queue ({COLUMNS}, PRIMARY KEY (id))")
            self.db.execute("CREATE INDEX IF NOT EXISTS queue_user ON queue (user, seq)")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER)")

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _next_seq(self, user: str) -> int:
        row = self.db.execute(
            "UPDATE counters SET last = last + 1 WHERE user = ? RETURNING last", (user,)
        ).fetchone()
        if row is not None:
            return int(row["last"])
        self.db.execute("INSERT INTO counters (user, last) VALUES (?, 1)", (user,))
        return 1

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._transaction():
            now = time.time()
            note = {
                "id": uuid.uuid4().hex,
                "seq": self._next_seq(user),
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now,
                "expires_at": now + self.ttl_seconds,
            }
            self.db.execute(
                f"INSERT INTO queue ({COLUMNS}) VALUES"
                " (:id, :seq, :user, :title, :body, :level, :created_at, :expires_at)",
                note,
            )
            self.db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM queue WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER"
                " (ORDER BY seq DESC) AS newest FROM queue WHERE user = ?) WHERE newest > ?)",
                (user, self.max_per_user),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._transaction():
            now = time.time()
            self.db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = self.db.execute(
                f"SELECT {COLUMNS} FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        with self._transaction():
            now = time.time()
            return sum(
                self.db.execute(
                    "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                ).rowcount
                for note_id in dict.fromkeys(ids)
            )


class Service:
    """The live side: who is connected, the listeners, the two routes' logic."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app, self.store, self.send_timeout = app, store, send_timeout
        self.live: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.created = 0

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def forget(self, user: str, ws: WebSocket) -> None:
        tabs = self.live.get(user, [])
        if ws in tabs:
            tabs.remove(ws)

    async def deliver(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            async with asyncio.timeout(self.send_timeout):
                await ws.send_text(json.dumps(frame))
        except Exception:  # failed, timed out, or gone: not reached
            return False
        return True

    # -- notification.created -------------------------------------------------
    def enrich(self, note: dict[str, Any]) -> None:
        for name, default in DEFAULTS.items():
            note.setdefault(name, default)

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            note.update(self.store.add(user, note))  # committed here, before any push
            frame = {"type": "notification", **{k: note[k] for k in COLUMNS.split(", ")}}
            tabs = list(self.live.get(user, []))
            async with asyncio.TaskGroup() as group:
                sends = [group.create_task(self.deliver(ws, frame)) for ws in tabs]
            note["delivered"] = 0
            for ws, sent in zip(tabs, sends):
                if sent.result():
                    note["delivered"] += 1
                else:
                    self.forget(user, ws)

    def audit(self, note: dict[str, Any]) -> None:
        self.created += 1

    # -- the WebSocket --------------------------------------------------------
    async def join(self, ws: WebSocket, user: str) -> bool:
        async with self.lock(user):
            backlog = self.store.pending(user)
            for note in backlog:
                if not await self.deliver(ws, {"type": "notification", **note}):
                    return False
            if not await self.deliver(ws, {"type": "backlog_end", "count": len(backlog)}):
                return False
            self.live.setdefault(user, []).append(ws)
            return True

    async def serve(self, ws: WebSocket, user: str) -> None:
        try:
            if not await self.join(ws, user):
                return
            while True:
                message = await ws.receive()
                match message:
                    case {"type": "websocket.disconnect"}:
                        return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    if not await self.deliver(ws, {"type": "error", "code": "bad_frame",
                                                   "message": str(exc)}):
                        return
                    await self.app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                if not await self.deliver(ws, {"type": "acked",
                                               "count": self.store.ack(user, ids)}):
                    return
        except (OSError, RuntimeError):
            return  # the client went away while we were reading
        finally:
            self.forget(user, ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    bus = day25.install(app)
    service = Service(app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
                      send_timeout)
    bus.on("notification.created", service.enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", service.store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", service.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            note: dict[str, Any] = validate(json.loads(await req.body))
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:  # not UTF-8, not JSON, or a bad field
            return res.json({"error": str(exc)}, status_code=422)
        await bus.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        match user:
            case str() if NAME.fullmatch(user):
                await service.serve(ws, user)
            case _:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "bad user name"}))
                await ws.close(BAD_REQUEST_CLOSE)

    return app
