"""Style: a dataclass service whose bound methods are the listeners and routes, validation inside the HIGH listener, and an autocommit sqlite3 connection with explicit BEGIN IMMEDIATE and an UPSERT ... RETURNING counter.

Follows: "Validate in the route before the emit, or only in the HIGH listener (the route then answers 422 from the emit's error)" (check() validates, marks a refused payload and the MEDIUM and LOW listeners skip it); "**nothing is stored** (no sequence number is used up)" (only deliver() stores); "`seq` ... is never reused, not even after acknowledgements, expiry or a restart" (last_seq table, UPSERT ... RETURNING inside BEGIN IMMEDIATE); "a notification is committed to SQLite before it is pushed" (COMMIT before the sends); "in `seq` order, ... then `{"type": "backlog_end", "count": K}`" and "Only after `backlog_end` may live notifications arrive" (a per-user asyncio.Lock around store+push and backlog+join, and tab.live set after backlog_end); "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab" (asyncio.timeout per send, tab.live = False); "`N` is how many distinct ids of the list were this user's pending" (dict.fromkeys, DELETE ... WHERE user AND expires_at > now, chunks of 500); "the oldest (lowest seq) is dropped" (keep the newest max_per_user by ORDER BY seq DESC); "the connection **stays open**" (bad_frame reply and ws.error, then the loop goes on).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
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

_MISSING = object()


def _is_text(value: str) -> bool:
    """False for a string holding a lone surrogate (it has no UTF-8 form)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user", _MISSING)
    if user is _MISSING:
        raise ValueError("user is required")
    if not (isinstance(user, str) and NAME.fullmatch(user)):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title", _MISSING)
    if title is _MISSING:
        raise ValueError("title is required")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if len(title) == 0 or len(title) > MAX_TITLE:
        raise ValueError(f"title: 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title: not only whitespace")
    body = data.get("body", _MISSING)
    if body is _MISSING:
        body = ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body: at most {MAX_BODY} characters")
    if not (_is_text(title) and _is_text(body)):
        raise ValueError("title and body must not hold a lone surrogate")
    level = data.get("level", _MISSING)
    if level is _MISSING:
        level = "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level: exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if message.get("text") is None:
        raise ValueError("binary frames are not part of the protocol")
    try:
        frame = json.loads(message["text"])
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if type(frame) is not dict:
        raise ValueError("a frame is a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('the only frame a client sends has type "ack"')
    ids = frame.get("ids")
    if type(ids) is not list:
        raise ValueError("ids must be a list")
    for one in ids:
        if type(one) is not str or not _is_text(one):
            raise ValueError("every id must be a string")
    return ids


_FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
    created_at REAL NOT NULL, expires_at REAL NOT NULL,
    UNIQUE (user, seq)
);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    The connection is in autocommit mode; every change runs in an explicit
    ``BEGIN IMMEDIATE`` ... ``COMMIT``, so nothing waits uncommitted.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.executescript(_SCHEMA)

    def _write(self, work: Any) -> Any:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            out = work()
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return out

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it."""

        def work() -> dict[str, Any]:
            (seq,) = self.db.execute(
                "INSERT INTO last_seq (user, seq) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET seq = last_seq.seq + 1 RETURNING seq",
                (user,),
            ).fetchone()
            created = time.time()
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": created, "expires_at": created + self.ttl}
            self.db.execute(
                f"INSERT INTO queue ({', '.join(_FIELDS)}) VALUES ({', '.join('?' * 8)})",
                tuple(note[k] for k in _FIELDS),
            )
            self.db.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?",
                            (user, created))
            self.db.execute(
                "DELETE FROM queue WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.cap, 0)),
            )
            return note

        return self._write(work)

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        self._write(lambda: self.db.execute(
            "DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now)))
        cursor = self.db.execute(
            f"SELECT {', '.join(_FIELDS)} FROM queue WHERE user = ? AND expires_at > ? "
            "ORDER BY seq ASC",
            (user, now),
        )
        return [dict(zip(_FIELDS, row)) for row in cursor]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        wanted = list(dict.fromkeys(ids))
        now = time.time()

        def work() -> int:
            gone = 0
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                gone += self.db.execute(
                    f"DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk),
                ).rowcount
            return gone

        return self._write(work) if wanted else 0


@dataclass(eq=False)
class Tab:
    """One open WebSocket of a user."""

    ws: WebSocket
    user: str
    live: bool = False


@dataclass
class NotificationService:
    """The queue, the open tabs and the bus listeners of one app."""

    app: NexiosApp
    store: Store
    send_timeout: float
    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    created: int = 0

    def lock(self, user: str) -> asyncio.Lock:
        found = self.locks.get(user)
        if found is None:
            found = self.locks[user] = asyncio.Lock()
        return found

    async def send(self, tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            async with asyncio.timeout(self.send_timeout):
                await tab.ws.send_text(json.dumps(frame))
        except Exception:  # a failure or a TimeoutError: the tab is dead
            return False
        return True

    # -- listeners of notification.created ---------------------------------
    def check(self, note: dict[str, Any]) -> None:
        """HIGH: validate and fill the defaults in place; a refused one is marked."""
        try:
            accepted = validate(note)
        except ValueError as exc:
            note.clear()
            note["refused"] = str(exc)
            raise
        note.clear()
        note.update(accepted)

    async def deliver(self, note: dict[str, Any]) -> None:
        """MEDIUM: store (committed), then push to every live tab of the user."""
        if "refused" in note:
            return
        user = note["user"]
        async with self.lock(user):
            row = self.store.add(user, note)
            note.update(row)
            frame = {"type": "notification", **row}
            live = [tab for tab in self.tabs.get(user, []) if tab.live]
            reached = await asyncio.gather(*(self.send(tab, frame) for tab in live))
            for tab, ok in zip(live, reached):
                if not ok:
                    tab.live = False
            note["delivered"] = sum(reached)

    def audit(self, note: dict[str, Any]) -> None:
        """LOW: count what was created."""
        if "refused" not in note:
            self.created += 1

    # -- the routes --------------------------------------------------------
    async def create(self, req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": f"invalid JSON: {type(exc).__name__}"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "a notification is a JSON object"}, status_code=422)
        note = dict(data)
        result = await self.app.events.emit("notification.created", note)
        if "refused" in note:
            return res.json({"error": note["refused"]}, status_code=422)
        if "seq" not in note:
            return res.json({"error": f"not stored: {list(map(str, result.errors))}"},
                            status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def connect(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "the user name must be 1-32 of [A-Za-z0-9_.-]"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        tab = Tab(ws, user)
        self.tabs.setdefault(user, []).append(tab)
        try:
            async with self.lock(user):
                backlog = self.store.pending(user)
                for row in backlog:
                    if not await self.send(tab, {"type": "notification", **row}):
                        return
                if not await self.send(tab, {"type": "backlog_end", "count": len(backlog)}):
                    return
                tab.live = True
            await self.listen(tab)
        except Exception:
            pass  # the client went away
        finally:
            self.tabs[user].remove(tab)

    async def listen(self, tab: Tab) -> None:
        while True:
            message = await tab.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                ids = parse_ack(message)
            except ValueError as exc:
                await self.send(tab, {"type": "error", "code": "bad_frame", "message": str(exc)})
                await self.app.events.emit("ws.error", {"user": tab.user, "error": str(exc)})
                continue
            await self.send(tab, {"type": "acked", "count": self.store.ack(tab.user, ids)})


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
    day25.install(app)
    service = NotificationService(
        app, Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout
    )
    app.events.on("notification.created", service.check, priority=EventPriority.HIGH)
    app.events.on("notification.created", service.deliver, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", service.audit, priority=EventPriority.LOW)
    app.post("/notifications")(service.create)
    app.ws_route("/notifications/{user}")(service.connect)
    app.service = service
    return app
