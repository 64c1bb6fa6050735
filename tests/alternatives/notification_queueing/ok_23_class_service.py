"""Correct solution, class style: a NotificationService object owns the store, the live tabs and the per-user locks; its bound methods are the listeners and the route bodies, and a push waits on per-tab tasks with asyncio.wait.

Follows: "The route emits `notification.created` on `app.events`; its listeners run by priority:
**HIGH** validate/enrich (defaults), **MEDIUM** store and push to every open tab of the user,
**LOW** audit (for example count or log it)."
And: "**Dead tabs:** a push to a tab that fails, or takes longer than `send_timeout` seconds,
drops that tab from the live ones: no later push tries it (so a stalled tab costs at most one
`send_timeout`), and the notification stays stored until acknowledged".
And: "**Crash safety:** a notification is committed to SQLite before it is pushed."
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

FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
SURROGATES = re.compile("[\ud800-\udfff]")


def _text(data: dict[str, Any], key: str, default: str | None, longest: int) -> str:
    """The string field ``key`` (``default`` when missing, if there is one), or ValueError."""
    if key not in data:
        if default is None:
            raise ValueError(f"{key} is required")
        return default
    value = data[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    if len(value) > longest:
        raise ValueError(f"{key} must be at most {longest} characters")
    if SURROGATES.search(value):
        raise ValueError(f"{key} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-] and nothing else")
    title = _text(data, "title", None, MAX_TITLE)
    if title == "" or title.isspace():
        raise ValueError("title must hold at least one character that is not whitespace")
    body = _text(data, "body", "", MAX_BODY)
    level = data.get("level", "normal")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError('level must be exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON ({type(exc).__name__})") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame must be a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('the frame\'s type must be "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not isinstance(item, str):
            raise ValueError("ids must be a list of strings")
        if SURROGATES.search(item):
            raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        with self._transaction() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER,"
                " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL,"
                " expires_at REAL, UNIQUE (user, seq))"
            )
            db.execute("CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER)")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        with self._transaction() as db:
            row = db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            seq = (row["seq"] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO last_seq (user, seq) VALUES (?, ?)", (user, seq))
            note = {
                "id": str(uuid.uuid4()), "seq": seq, "user": user,
                "title": fields["title"], "body": fields["body"], "level": fields["level"],
                "created_at": created, "expires_at": created + self.ttl_seconds,
            }
            db.execute(
                f"INSERT INTO queue ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})",
                [note[f] for f in FIELDS],
            )
            kept = db.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (user, max(self.max_per_user, 0)),
            ).fetchone()
            if kept is not None:  # more than the cap: drop every one from that rank down
                db.execute("DELETE FROM queue WHERE user = ? AND seq <= ?", (user, kept["seq"]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._transaction() as db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute(
                f"SELECT {', '.join(FIELDS)} FROM queue WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [{f: row[f] for f in FIELDS} for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = list(dict.fromkeys(ids))
        now = time.time()
        removed = 0
        with self._transaction() as db:
            for start in range(0, len(distinct), 500):
                chunk = distinct[start:start + 500]
                cursor = db.execute(
                    f"DELETE FROM queue WHERE user = ? AND expires_at > ?"
                    f" AND id IN ({', '.join('?' * len(chunk))})",
                    (user, now, *chunk),
                )
                removed += cursor.rowcount
        return removed


class NotificationService:
    """The live side: open tabs per user, one lock per user, the listeners and the routes."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.store = store
        self.send_timeout = send_timeout
        self.events = day25.install(app)
        self.tabs: dict[str, set[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.created = 0
        self.events.on("notification.created", self.enrich, priority=EventPriority.HIGH)
        self.events.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self.audit, priority=EventPriority.LOW)

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    @staticmethod
    def frame(note: dict[str, Any]) -> str:
        return json.dumps({"type": "notification", **{f: note[f] for f in FIELDS}})

    # -- listeners ------------------------------------------------------------
    def enrich(self, note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.lock(user):
            stored = self.store.add(user, note)  # committed: a crash now loses nothing
            note.update(stored)
            note["delivered"] = await self.push(user, self.frame(stored))

    def audit(self, note: dict[str, Any]) -> None:
        self.created += 1

    async def push(self, user: str, text: str) -> int:
        live = self.tabs.get(user, set())
        if not live:
            return 0
        sends = {asyncio.ensure_future(ws.send_text(text)): ws for ws in live}
        done, late = await asyncio.wait(sends, timeout=self.send_timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.gather(*late, return_exceptions=True)
        reached = 0
        for task, ws in sends.items():
            if task in done and not task.cancelled() and task.exception() is None:
                reached += 1
            else:
                live.discard(ws)  # dead or stalled: no later push tries it
        return reached

    # -- routes ---------------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        raw: bytes = await req.body
        try:
            data = json.loads(raw.decode("utf-8", errors="strict"))
            note = validate(data)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deep"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await self.events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
            status_code=201,
        )

    async def connect(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            await self.refuse(ws)
            return
        if not await self.join(ws, user):
            return
        try:
            await self.listen(ws, user)
        finally:
            self.tabs.get(user, set()).discard(ws)

    async def refuse(self, ws: WebSocket) -> None:
        try:
            await ws.send_text(json.dumps({
                "type": "error", "code": "bad_request",
                "message": "the user name must be 1-32 characters of [A-Za-z0-9_.-]",
            }))
            await ws.close(code=BAD_REQUEST_CLOSE)
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass

    async def join(self, ws: WebSocket, user: str) -> bool:
        """Backlog, backlog_end, then live: all under the user's lock, so no push slips between."""
        async with self.lock(user):
            backlog = self.store.pending(user)
            try:
                for note in backlog:
                    await asyncio.wait_for(ws.send_text(self.frame(note)), self.send_timeout)
                end = json.dumps({"type": "backlog_end", "count": len(backlog)})
                await asyncio.wait_for(ws.send_text(end), self.send_timeout)
            except (WebSocketDisconnect, OSError, RuntimeError, asyncio.TimeoutError):
                return False  # the client left during its backlog: a goodbye, not an error
            self.tabs.setdefault(user, set()).add(ws)
        return True

    async def listen(self, ws: WebSocket, user: str) -> None:
        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    problem = str(exc)
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": problem}))
                    await self.events.emit("ws.error", {"user": user, "error": problem})
                    continue
                count = self.store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            return


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    service = NotificationService(app, store, send_timeout)
    app.post("/notifications")(service.create)
    app.ws_route("/notifications/{user}")(service.connect)
    return app
