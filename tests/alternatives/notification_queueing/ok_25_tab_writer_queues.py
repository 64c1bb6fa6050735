"""Style: closures over a table-driven validator, and one writer task per live tab that owns every send after the backlog; a push queues the frame to each tab with a future and waits for all of them at most send_timeout.

Follows: "a default is for a **missing** field only ... `"level": ""`, `"level": null` and `"body": null` are refused" (FIELDS: a default is used only when the key is absent, every present value goes through its checker); "Lengths count characters ... as given" (len() of the string as received, never stripped or normalized); "**nothing is stored** (no sequence number is used up). Never a 500" (the body is decoded as strict UTF-8 and parsed, ValueError and RecursionError give 422, all before the emit); "listeners run by priority: **HIGH** validate/enrich (defaults), **MEDIUM** store and push ..., **LOW** audit" (fill_defaults, store_and_push, audit); "`seq` ... never reused, not even after acknowledgements or a restart" (a `users` table holds each user's last seq; rows of acknowledged notifications are deleted, the counter never is); "it is expired once `expires_at <= time.time()`" (every read and ack filters `expires_at > now` and purges the rest); "the **oldest (lowest seq) is dropped**" (after each insert, rows past the newest max_per_user by seq are deleted); "a notification is committed to SQLite before it is pushed" (Store.add commits before store_and_push queues any frame); "Backlog first ... Only after `backlog_end` may live notifications arrive" and "a tab still receiving its backlog ... does not count" (the backlog and backlog_end are sent under the user's lock, and only then does the tab get its writer and join the live tabs); "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab" (asyncio.wait(..., timeout=send_timeout) on the tabs' futures: one not done, or done with False, leaves the live set and is never tried again); "`acked` ... distinct ids ... this user's pending" (DELETE by id AND user AND unexpired, once per distinct id); "A malformed frame ... gets exactly `{"type": "error", "code": "bad_frame", ...}` ... emits `ws.error` ... stays open" (parse_ack raises only ValueError; the loop answers, emits and goes on); "A normal disconnect is not an error" (a disconnect message ends the loop, a failed backlog send ends the handler quietly, the writer is cancelled).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
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

_LONE = re.compile("[\ud800-\udfff]")


def _user(value: Any) -> str | None:
    if isinstance(value, str) and NAME.fullmatch(value):
        return None
    return "user must be 1-32 characters of [A-Za-z0-9_.-] and nothing else"


def _title(value: Any) -> str | None:
    if not isinstance(value, str):
        return "title must be a string"
    if not 1 <= len(value) <= MAX_TITLE:
        return f"title must be 1-{MAX_TITLE} characters"
    if not value.strip():
        return "title must not be only whitespace"
    if _LONE.search(value):
        return "title holds a lone surrogate"
    return None


def _body(value: Any) -> str | None:
    if not isinstance(value, str):
        return "body must be a string"
    if len(value) > MAX_BODY:
        return f"body must be at most {MAX_BODY} characters"
    if _LONE.search(value):
        return "body holds a lone surrogate"
    return None


def _level(value: Any) -> str | None:
    if isinstance(value, str) and value in LEVELS:
        return None
    return "level must be exactly 'low', 'normal' or 'high'"


_REQUIRED = object()
# field -> (default when the key is missing, or _REQUIRED; the check of a present value)
FIELDS: dict[str, tuple[Any, Callable[[Any], str | None]]] = {
    "user": (_REQUIRED, _user),
    "title": (_REQUIRED, _title),
    "body": ("", _body),
    "level": ("normal", _level),
}


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification must be a JSON object")
    accepted: dict[str, str] = {}
    for name, (default, check) in FIELDS.items():
        if name not in data:
            if default is _REQUIRED:
                raise ValueError(f"{name} is required")
            accepted[name] = default
            continue
        problem = check(data[name])
        if problem is not None:
            raise ValueError(problem)
        accepted[name] = data[name]
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deeply to parse") from None
    except ValueError:
        raise ValueError("the frame is not JSON") from None
    match frame:
        case {"type": "ack", "ids": list(ids)}:
            pass
        case {"type": "ack"}:
            raise ValueError("ids must be a list of strings")
        case _:
            raise ValueError('expected {"type": "ack", "ids": [...]}')
    if not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_LONE.search(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    _SHAPE = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._mutex = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.executescript("""
            CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, last_seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS inbox (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL, UNIQUE (user, seq));
        """)

    def _transaction(self, work: Callable[[sqlite3.Connection, float], Any]) -> Any:
        with self._mutex:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                self._db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
                result = work(self._db, now)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        def work(db: sqlite3.Connection, now: float) -> dict[str, Any]:
            row = db.execute("SELECT last_seq FROM users WHERE name = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            db.execute("INSERT INTO users (name, last_seq) VALUES (?, ?) ON CONFLICT (name)"
                       " DO UPDATE SET last_seq = excluded.last_seq", (user, seq))
            note = dict(zip(self._SHAPE, (uuid.uuid4().hex, seq, user, fields["title"],
                                          fields["body"], fields["level"], now,
                                          now + self.ttl_seconds)))
            db.execute("INSERT INTO inbox VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       tuple(note[k] for k in self._SHAPE))
            db.execute("DELETE FROM inbox WHERE user = ? AND seq IN (SELECT seq FROM inbox"
                       " WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                       (user, user, max(self.max_per_user, 0)))
            return note

        return self._transaction(work)

    def pending(self, user: str) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection, now: float) -> list[dict[str, Any]]:
            rows = db.execute("SELECT id, seq, user, title, body, level, created_at, expires_at"
                              " FROM inbox WHERE user = ? AND expires_at > ? ORDER BY seq",
                              (user, now))
            return [dict(zip(self._SHAPE, r)) for r in rows]

        return self._transaction(work)

    def ack(self, user: str, ids: list[str]) -> int:
        def work(db: sqlite3.Connection, now: float) -> int:
            return sum(db.execute("DELETE FROM inbox WHERE id = ? AND user = ? AND"
                                  " expires_at > ?", (i, user, now)).rowcount
                       for i in set(ids))

        return self._transaction(work)


@dataclass(eq=False)
class Tab:
    """A live tab: its writer task sends what is queued in ``outbox``, one frame at a time."""

    ws: WebSocket
    outbox: asyncio.Queue[tuple[dict[str, Any], asyncio.Future[bool] | None]] = field(
        default_factory=asyncio.Queue)
    writer: asyncio.Task[None] | None = None

    async def write_forever(self) -> None:
        while True:
            frame, done = await self.outbox.get()
            try:
                await self.ws.send_json(frame)
                ok = True
            except Exception:
                ok = False
            if done is not None and not done.done():
                done.set_result(ok)

    def start(self) -> None:
        self.writer = asyncio.get_running_loop().create_task(self.write_forever())

    def stop(self) -> None:
        if self.writer is not None:
            self.writer.cancel()


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
    live: dict[str, set[Tab]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audited: list[tuple[str, int, int]] = []

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, frame: dict[str, Any]) -> int:
        tabs = list(live.get(user, ()))
        if not tabs:
            return 0
        loop = asyncio.get_running_loop()
        waiting = {}
        for tab in tabs:
            done: asyncio.Future[bool] = loop.create_future()
            tab.outbox.put_nowait((frame, done))
            waiting[done] = tab
        finished, _ = await asyncio.wait(waiting, timeout=send_timeout)
        reached = 0
        for done, tab in waiting.items():
            if done in finished and done.result():
                reached += 1
            else:  # failed, or still not sent after send_timeout: a dead tab
                live.get(user, set()).discard(tab)
        return reached

    def fill_defaults(note: dict[str, Any]) -> None:
        for name, (default, _) in FIELDS.items():
            if default is not _REQUIRED:
                note.setdefault(name, default)

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_of(user):
            stored = store.add(user, {k: note[k] for k in ("title", "body", "level")})
            note.update(stored)
            note["delivered"] = await push(user, {"type": "notification", **stored})

    def audit(note: dict[str, Any]) -> None:
        audited.append((note["user"], note["seq"], note["delivered"]))

    events.on("notification.created", fill_defaults, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw: bytes = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError:
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if _user(user) is not None:
            await ws.send_json({"type": "error", "code": "bad_request", "message": _user(user)})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws)
        try:
            async with lock_of(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                tab.start()
                live.setdefault(user, set()).add(tab)
        except Exception:  # the client left during its backlog: not an error
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    tab.outbox.put_nowait(
                        ({"type": "error", "code": "bad_frame", "message": str(exc)}, None))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                tab.outbox.put_nowait(({"type": "acked", "count": store.ack(user, ids)}, None))
        except Exception:
            pass  # the connection broke: nothing to report
        finally:
            live.get(user, set()).discard(tab)
            tab.stop()

    return app
