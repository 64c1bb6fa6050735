"""Style: a table of field rules for validation, a `Tab` dataclass per connection, one `Notifications` object holding the app's state, pushes run as tasks under a single `asyncio.wait(timeout=send_timeout)` whose late tasks are cancelled, and acks done in one `json_each` statement.

Follows: "a field that is there must be valid ... A default is for a **missing** field only": each rule runs only on a present field, `RULES` gives the defaults; "`N` the user's sequence number ... never reused": an `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` on a `counters` table in the same `BEGIN IMMEDIATE` transaction as the row, committed (or rolled back) at once; "the oldest (lowest seq) is dropped": rows past the newest `max_per_user`; "expired once `expires_at <= time.time()`": every read and ack filters on it and purges (committed); "a tab whose send failed or timed out does not count": only tasks done without an exception within `send_timeout` count, the others are cancelled and their tabs leave the live set for good; "Backlog first": a tab joins only after its backlog and `backlog_end` went out, under the user's lock that the push also holds; "an id given twice counts once ... another user's ... count 0": `DELETE ... WHERE user = ? AND id IN (SELECT DISTINCT value FROM json_each(?))`, no length limit; bad frames: `bad_frame` to that tab, `ws.error {"user", "error"}`, socket open; a normal disconnect is silent.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _user(value: Any) -> str | None:
    if isinstance(value, str) and NAME.fullmatch(value):
        return None
    return "user must be 1-32 characters of [A-Za-z0-9_.-]"


def _title(value: Any) -> str | None:
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TITLE:
        return f"title must be text of 1-{MAX_TITLE} characters"
    if value.isspace():
        return "title must not be only whitespace"
    return None if _text(value) else "title holds a lone surrogate"


def _body(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_BODY:
        return f"body must be text of at most {MAX_BODY} characters"
    return None if _text(value) else "body holds a lone surrogate"


def _level(value: Any) -> str | None:
    return None if isinstance(value, str) and value in LEVELS else "level must be low, normal or high"


# field -> (check, default); no default means required
RULES: dict[str, tuple[Callable[[Any], str | None], str | None]] = {
    "user": (_user, None),
    "title": (_title, None),
    "body": (_body, ""),
    "level": (_level, "normal"),
}


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    accepted: dict[str, str] = {}
    for name, (check, default) in RULES.items():
        if name not in data:
            if default is None:
                raise ValueError(f"{name} is required")
            accepted[name] = default
            continue
        problem = check(data[name])
        if problem:
            raise ValueError(problem)
        accepted[name] = data[name]
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("binary frame: send JSON text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"invalid JSON ({exc.__class__.__name__})") from None
    match frame:
        case {"type": "ack", "ids": list(ids)} if all(isinstance(i, str) and _text(i)
                                                       for i in ids):
            return ids
        case {"type": "ack"}:
            raise ValueError("ids must be a list of strings")
        case _:
            raise ValueError('expected {"type": "ack", "ids": [...]}')


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    FIELDS = "id, seq, user, title, body, level, created_at, expires_at"

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                    timeout=30)
        self.conn.executescript(
            "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
            " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
            " created_at REAL NOT NULL, expires_at REAL NOT NULL);"
            "CREATE INDEX IF NOT EXISTS items_user_seq ON items (user, seq);"
            "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);")

    def _write(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            out = work(self.conn)
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return out

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()

        def work(db: sqlite3.Connection) -> dict[str, Any]:
            (seq,) = db.execute("INSERT INTO counters VALUES (?, 1) ON CONFLICT (user) DO UPDATE"
                                " SET seq = seq + 1 RETURNING seq", (user,)).fetchone()
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl}
            db.execute("INSERT INTO items VALUES (:id, :seq, :user, :title, :body, :level,"
                       " :created_at, :expires_at)", note)
            db.execute("DELETE FROM items WHERE user = ? AND expires_at <= ?", (user, now))
            db.execute("DELETE FROM items WHERE user = ? AND seq NOT IN (SELECT seq FROM items"
                       " WHERE user = ? ORDER BY seq DESC LIMIT ?)", (user, user, self.cap))
            return note

        result: dict[str, Any] = self._write(work)
        return result

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._write(lambda db: db.execute("DELETE FROM items WHERE expires_at <= ?", (now,)))
        cur = self.conn.execute(f"SELECT {self.FIELDS} FROM items WHERE user = ?"
                                " AND expires_at > ? ORDER BY seq", (user, now))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count: int = self._write(lambda db: db.execute(
            "DELETE FROM items WHERE user = ? AND expires_at > ? AND id IN"
            " (SELECT DISTINCT value FROM json_each(?))",
            (user, now, json.dumps(ids))).rowcount)
        return count


@dataclass(eq=False)
class Tab:
    user: str
    ws: WebSocket
    live: bool = False


@dataclass
class Notifications:
    store: Store
    bus: Any
    send_timeout: float
    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    audit_count: int = 0

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    async def send(self, tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.ws.send_json(frame), self.send_timeout)
        except Exception:
            return False
        return True

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        targets = [t for t in self.tabs.get(user, []) if t.live]
        if not targets:
            return 0
        tasks = {asyncio.ensure_future(t.ws.send_json(frame)): t for t in targets}
        done, late = await asyncio.wait(tasks, timeout=self.send_timeout)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
        reached = 0
        for task, tab in tasks.items():
            if task in done and not task.cancelled() and task.exception() is None:
                reached += 1
            else:
                self.drop(tab)
        return reached

    def drop(self, tab: Tab) -> None:
        tab.live = False
        members = self.tabs.get(tab.user, [])
        if tab in members:
            members.remove(tab)

    # listeners of notification.created
    def enrich(self, note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(self, note: dict[str, Any]) -> None:
        async with self.lock(note["user"]):
            stored = self.store.add(note["user"], note)
            note.update(stored)
            note["delivered"] = await self.push(note["user"], {"type": "notification", **stored})

    def audit(self, note: dict[str, Any]) -> None:
        self.audit_count += 1


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The notification app: POST /notifications and the /notifications/{user} WebSocket."""
    app = NexiosApp()
    hub = Notifications(Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
                        day25.install(app), send_timeout)
    hub.bus.on("notification.created", hub.enrich, priority=EventPriority.HIGH)
    hub.bus.on("notification.created", hub.store_and_push, priority=EventPriority.MEDIUM)
    hub.bus.on("notification.created", hub.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        try:
            note: dict[str, Any] = validate(json.loads(await req.body))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await hub.bus.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications_ws(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if _user(user) is not None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": _user(user)})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        tab = Tab(user, ws)
        async with hub.lock(user):
            backlog = hub.store.pending(user)
            for note in backlog:
                if not await hub.send(tab, {"type": "notification", **note}):
                    return
            if not await hub.send(tab, {"type": "backlog_end", "count": len(backlog)}):
                return
            tab.live = True
            hub.tabs.setdefault(user, []).append(tab)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    await hub.bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": hub.store.ack(user, ids)})
        except Exception:
            return  # the connection is gone
        finally:
            hub.drop(tab)

    return app
