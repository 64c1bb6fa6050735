"""Style: validation lives in the HIGH listener (the lesson's "rejected" mark, the route answers 422 from the emit's error), rows keep the notification as a JSON document next to its indexed columns under explicit `BEGIN IMMEDIATE` transactions, and each tab is a small object with an `Enum` state.

Follows: "Validate in the route before the emit, or only in the HIGH listener (the route then answers 422 from the emit's error)" and "a refused notification is never stored and uses no `seq`" (HIGH raises and marks the payload rejected; MEDIUM and LOW skip it, so the counter never moves); "A default is for a **missing** field only" (validate uses `"body" not in data` / `"level" not in data`); "Other fields are ignored: they are neither stored nor delivered" (the payload is replaced by the accepted four fields); "`seq` increases by one per user and is never reused, not even after acknowledgements, expiry or a restart" (a `counters` table read and bumped inside one `BEGIN IMMEDIATE`); "the **oldest (lowest seq) is dropped**" (rows past the newest `max_per_user` by seq are deleted after expired ones); "it is expired once `expires_at <= time.time()` (the `expires_at` it was stored with, also after a restart with another `ttl_seconds`)" (the stored column is compared, never recomputed); "an id given twice counts once" and "no length limit" (a set of ids, deleted in chunks of 500 with the user and `expires_at > now` in the WHERE clause); "Only after `backlog_end` may live notifications arrive" and "a tab still receiving its backlog (which then includes this notification) does not count" (a tab is `State.BACKLOG` until its `backlog_end` is sent, under the user's lock, and only `State.LIVE` tabs are pushed to); "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab" (each send has its own timeout, a failed tab becomes `State.DEAD` and leaves the list); "committed to SQLite before it is pushed" (COMMIT happens inside Store.add); "gets exactly `{"type": "error", "code": "bad_frame", "message": "<what was wrong>"}` on that connection only, the app emits `ws.error` with exactly `{"user": U, "error": "<what was wrong>"}`, and the connection **stays open**" (parse_ack raises only ValueError; the loop answers and goes on) and "A normal disconnect is not an error".
"""

from __future__ import annotations

import asyncio
import enum
import itertools
import json
import re
import sqlite3
import time
import uuid
from dataclasses import dataclass
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


def _has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-] required")
    title = data.get("title")
    if not isinstance(title, str):
        raise ValueError("title: text required")
    if not (1 <= len(title) <= MAX_TITLE) or title.isspace():
        raise ValueError(f"title: 1-{MAX_TITLE} characters, not only whitespace")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body: text of at most {MAX_BODY} characters")
    if _has_lone_surrogate(title) or _has_lone_surrogate(body):
        raise ValueError("title and body must be valid text (no lone surrogates)")
    level = data["level"] if "level" in data else "normal"
    if level not in LEVELS or not isinstance(level, str):
        raise ValueError("level: exactly low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    if "bytes" in message and message["bytes"] is not None:
        raise ValueError("binary frame")
    if not isinstance(message.get("text"), str):
        raise ValueError("empty frame")
    try:
        frame = json.loads(message["text"])
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError:
        raise ValueError("frame is not JSON") from None
    if type(frame) is not dict or frame.get("type") != "ack" or type(frame["type"]) is not str:
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if type(ids) is not list:
        raise ValueError("ids must be a list")
    for item in ids:
        if type(item) is not str or _has_lone_surrogate(item):
            raise ValueError("every id must be a string")
    return ids


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute("CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, n INTEGER)")
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT, seq INTEGER,"
            " expires_at REAL, doc TEXT)"
        )
        self.conn.execute("CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq)")

    def _tx(self) -> _Transaction:
        return _Transaction(self.conn)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._tx() as db:
            row = db.execute("SELECT n FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute("INSERT OR REPLACE INTO counters (user, n) VALUES (?, ?)", (user, seq))
            created = time.time()
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": created, "expires_at": created + self.ttl_seconds}
            db.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?)",
                       (note["id"], user, seq, note["expires_at"], json.dumps(note)))
            db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, created))
            db.execute(
                "DELETE FROM queue WHERE id IN (SELECT id FROM queue WHERE user = ?"
                " ORDER BY seq DESC LIMIT -1 OFFSET ?)", (user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._tx() as db:
            now = time.time()
            db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            docs = db.execute("SELECT doc FROM queue WHERE user = ? AND expires_at > ?"
                              " ORDER BY seq", (user, now)).fetchall()
        return [json.loads(doc) for (doc,) in docs]

    def ack(self, user: str, ids: list[str]) -> int:
        unique = list(dict.fromkeys(ids))
        removed = 0
        with self._tx() as db:
            now = time.time()
            for start in range(0, len(unique), 500):
                chunk = unique[start:start + 500]
                marks = ",".join("?" * len(chunk))
                removed += db.execute(
                    f"DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk)).rowcount
        return removed


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on an error) on an autocommit connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, kind: Any, *_: Any) -> None:
        self.conn.execute("COMMIT" if kind is None else "ROLLBACK")


class State(enum.Enum):
    BACKLOG = "backlog"
    LIVE = "live"
    DEAD = "dead"


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    user: str
    number: int
    state: State = State.BACKLOG

    async def send(self, frame: dict[str, Any], timeout: float) -> bool:
        try:
            await asyncio.wait_for(self.ws.send_json(frame), timeout)
            return True
        except Exception:
            return False

    async def push(self, frame: dict[str, Any], timeout: float) -> bool:
        """A live push: a tab it fails on is dead from now on."""
        if not await self.send(frame, timeout):
            self.state = State.DEAD
        return self.state is State.LIVE


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, list[Tab]] = {}
    locks: dict[str, asyncio.Lock] = {}
    numbers = itertools.count(1)
    audit: list[str] = []

    def lock(user: str) -> asyncio.Lock:
        if user not in locks:
            locks[user] = asyncio.Lock()
        return locks[user]

    def check(note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except ValueError:
            note["rejected"] = True
            raise
        note.clear()
        note.update(accepted)

    async def deliver(note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        async with lock(note["user"]):
            note.update(store.add(note["user"], note))
            frame = {"type": "notification", **note}
            live = [tab for tab in tabs.get(note["user"], []) if tab.state is State.LIVE]
            sent = await asyncio.gather(*(tab.push(frame, send_timeout) for tab in live))
            tabs[note["user"]] = [t for t in tabs.get(note["user"], []) if t.state is not State.DEAD]
            note["delivered"] = sum(sent)

    def record(note: dict[str, Any]) -> None:
        if not note.get("rejected"):
            audit.append(f"{note['user']}#{note['seq']} -> {note['delivered']} tab(s)")

    app.events.on("notification.created", check, priority=EventPriority.HIGH)
    app.events.on("notification.created", deliver, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", record, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note = dict(data)
        result = await app.events.emit("notification.created", note)
        if note.get("rejected") or "seq" not in note:
            reason = next((str(e) for e in result.errors if isinstance(e, ValueError)), "refused")
            return res.json({"error": reason}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications_socket(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if NAME.fullmatch(user) is None:
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": f"bad user name {user!r}"})
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        tab = Tab(ws, user, next(numbers))
        async with lock(user):
            backlog = store.pending(user)
            for note in backlog:
                if not await tab.send({"type": "notification", **note}, send_timeout):
                    return
            if not await tab.send({"type": "backlog_end", "count": len(backlog)}, send_timeout):
                return
            tab.state = State.LIVE
            tabs.setdefault(user, []).append(tab)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as problem:
                    await tab.send({"type": "error", "code": "bad_frame",
                                    "message": str(problem)}, send_timeout)
                    await app.events.emit("ws.error", {"user": user, "error": str(problem)})
                    continue
                await tab.send({"type": "acked", "count": store.ack(user, ids)}, send_timeout)
        except Exception:
            return
        finally:
            if tab in tabs.get(user, []):
                tabs[user].remove(tab)
    return app
