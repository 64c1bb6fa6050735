"""Style: a NotificationHub class owns the store, the tabs (small dataclasses with an alive flag) and the per-user locks; validation happens only in the HIGH listener (the route answers 422 from the emit's error), acks are soft (an acked flag), and seq comes from a counter row updated with UPSERT ... RETURNING.

Follows: "HIGH validate/enrich (defaults), MEDIUM store and push to every open tab of the user, LOW audit": Hub.check (HIGH) replaces the payload's fields with validate()'s result and remembers the payload as accepted, Hub.deliver (MEDIUM) stores and pushes only an accepted payload, Hub.audit (LOW) counts; "a refused notification is never stored and uses no seq": nothing reaches Store.add unless Hub.check accepted that very payload (a client cannot fake the mark: it is kept outside the payload); "seq ... never reused, not even after acknowledgements, expiry or a restart, nor when POSTs for one user arrive at the same moment": counters table, INSERT ... ON CONFLICT DO UPDATE ... RETURNING under BEGIN IMMEDIATE and the user's lock; "Acknowledged notifications are never delivered again": acked = 1, pending() reads acked = 0 AND expires_at > now; "an id given twice counts once", "no length limit": ids de-duplicated, UPDATE in chunks of 500; "the oldest (lowest seq) is dropped": the cap deletes unacked rows beyond the newest max_per_user; "Backlog first ... Then live": the tab joins hub.tabs under the user's lock after backlog_end; "a push to a tab that fails, or takes longer than send_timeout seconds, drops that tab": each send in asyncio.wait_for, a failed tab gets alive = False and leaves the list; "no app leaves a transaction open": every write, a purge too, is BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error); "A normal disconnect is not an error": only parse_ack's ValueError is reported.
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


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _has_surrogate(title) or _has_surrogate(body):
        raise ValueError("title and body must not hold lone surrogates")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("frames must be JSON text, not binary")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("frame nested too deeply") from None
        if not isinstance(frame, dict) or frame.get("type") != "ack" or not isinstance(frame.get("type"), str):
            raise ValueError('a frame must be an object with "type": "ack"')
        ids = frame.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("ids must not hold lone surrogates")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - never anything but ValueError
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT NOT NULL,"
            " seq INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
            " created_at REAL NOT NULL, expires_at REAL NOT NULL, acked INTEGER NOT NULL DEFAULT 0);"
            "CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq);"
            "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL);")

    def _write(self, *statements: tuple[str, tuple]) -> list[sqlite3.Cursor]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            out = [self.db.execute(sql, args) for sql, args in statements]
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return out

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        note: dict[str, Any] = {"id": str(uuid.uuid4()), "seq": None, "user": user,
                                "title": fields["title"], "body": fields["body"],
                                "level": fields["level"], "created_at": created,
                                "expires_at": created + self.ttl_seconds}
        self.db.execute("BEGIN IMMEDIATE")
        try:
            note["seq"] = self.db.execute(
                "INSERT INTO counters (user, last) VALUES (?, 1) ON CONFLICT (user)"
                " DO UPDATE SET last = last + 1 RETURNING last", (user,)).fetchone()[0]
            self.db.execute(
                "INSERT INTO queue (id, seq, user, title, body, level, created_at, expires_at)"
                " VALUES (:id, :seq, :user, :title, :body, :level, :created_at, :expires_at)", note)
            self.db.execute("DELETE FROM queue WHERE user = ? AND (acked = 1 OR expires_at <= ?)",
                            (user, time.time()))
            self.db.execute(
                "DELETE FROM queue WHERE user = ? AND acked = 0 AND seq <= COALESCE((SELECT seq"
                " FROM queue WHERE user = ? AND acked = 0 ORDER BY seq DESC LIMIT 1 OFFSET ?), -1)",
                (user, user, max(self.max_per_user, 0)))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._write(("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now)))
        rows = self.db.execute(
            f"SELECT {self.COLUMNS} FROM queue WHERE user = ? AND acked = 0 AND expires_at > ?"
            " ORDER BY seq", (user, now)).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        distinct = list(dict.fromkeys(ids))
        now = time.time()
        chunks = [distinct[i:i + 500] for i in range(0, len(distinct), 500)]
        cursors = self._write(*(
            (f"UPDATE queue SET acked = 1 WHERE user = ? AND acked = 0 AND expires_at > ?"
             f" AND id IN ({','.join('?' * len(chunk))})", (user, now, *chunk))
            for chunk in chunks))
        return sum(cur.rowcount for cur in cursors)


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    alive: bool = True


@dataclass
class NotificationHub:
    store: Store
    send_timeout: float
    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    created: int = 0
    accepted: dict[int, dict[str, str]] = field(default_factory=dict)  # id(payload) -> fields
    stored: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    async def send(self, tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.ws.send_json(frame), self.send_timeout)
            return True
        except Exception:  # noqa: BLE001 - failed or too slow
            tab.alive = False
            return False

    def check(self, payload: dict[str, Any]) -> None:
        """HIGH: validate and fill in the defaults (other fields are dropped)."""
        fields = validate(payload)
        payload.clear()
        payload.update(fields)
        self.accepted[id(payload)] = fields

    async def deliver(self, payload: dict[str, Any]) -> None:
        """MEDIUM: store (committed), then push to every live tab of the user."""
        fields = self.accepted.pop(id(payload), None)
        if fields is None:
            return
        user = fields["user"]
        async with self.lock(user):
            note = self.store.add(user, fields)
            self.stored[id(payload)] = (note, 0)
            live = list(self.tabs.get(user, []))
            frame = {"type": "notification", **note}
            reached = await asyncio.gather(*(self.send(tab, frame) for tab in live))
            self.tabs[user] = [tab for tab in self.tabs.get(user, []) if tab.alive]
        self.stored[id(payload)] = (note, sum(reached))
        payload.update(id=note["id"], seq=note["seq"], delivered=sum(reached))

    def audit(self, payload: dict[str, Any]) -> None:
        """LOW: count what was created."""
        if id(payload) in self.stored:
            self.created += 1


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``."""
    app = NexiosApp()
    day25.install(app)
    hub = NotificationHub(Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user),
                          send_timeout)
    app.events.on("notification.created", hub.check, priority=EventPriority.HIGH)
    app.events.on("notification.created", hub.deliver, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", hub.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req, res):
        try:
            raw = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON text"}, status_code=422)
        if not isinstance(raw, dict):
            return res.json({"error": "the notification must be a JSON object"}, status_code=422)
        payload: dict[str, Any] = dict(raw)
        try:
            result = await app.events.emit("notification.created", payload)
        finally:
            hub.accepted.pop(id(payload), None)
            outcome = hub.stored.pop(id(payload), None)
        if outcome is None:
            problems = [e for e in result.errors if isinstance(e, ValueError)]
            error = str(problems[0]) if problems else "the notification was not stored"
            return res.json({"error": error}, status_code=422)
        note, delivered = outcome
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": delivered},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def inbox(ws: WebSocket):
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": f"bad user name {user!r}"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws)
        try:
            async with hub.lock(user):
                backlog = hub.store.pending(user)
                for note in backlog:
                    await asyncio.wait_for(ws.send_json({"type": "notification", **note}),
                                           hub.send_timeout)
                await asyncio.wait_for(ws.send_json({"type": "backlog_end", "count": len(backlog)}),
                                       hub.send_timeout)
                hub.tabs.setdefault(user, []).append(tab)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": hub.store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - the client left (or stalled): not an error
            return
        finally:
            tab.alive = False
            if tab in hub.tabs.get(user, []):
                hub.tabs[user].remove(tab)

    return app
