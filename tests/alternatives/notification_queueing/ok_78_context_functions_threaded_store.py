"""Exercise 4: notification_queueing.

Module-level coroutine functions working on a per-app Hub dataclass (store, bus, live
tabs, per-user locks), bound to the bus with functools.partial. The Store keeps one
connection and makes every write a `with connection:` block (committed on exit, the
purge too); the app calls it through asyncio.to_thread, under one asyncio.Lock per
user, so "commit, then push" and "backlog, backlog_end, then join" never interleave for
a user. The route validates before the emit (the HIGH listener validates again, for
emits by other code). A push tries the tabs one after another, each send bounded by its
own asyncio.wait_for(send_timeout); backlog sends are not bounded.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import sqlite3
import threading
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

SURROGATE = re.compile("[\ud800-\udfff]")
KEYS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise ValueError("the notification is not a JSON object")
    out: dict[str, str] = {}
    user = data.get("user")
    if type(user) is not str or NAME.fullmatch(user) is None:
        raise ValueError("'user' is not 1-32 characters of [A-Za-z0-9_.-]")
    out["user"] = user
    title = data.get("title")
    if type(title) is not str or len(title) == 0 or len(title) > MAX_TITLE:
        raise ValueError(f"'title' is not a string of 1-{MAX_TITLE} characters")
    if all(ch.isspace() for ch in title):
        raise ValueError("'title' is only whitespace")
    out["title"] = title
    body = data.get("body", "")
    if type(body) is not str or len(body) > MAX_BODY:
        raise ValueError(f"'body' is not a string of at most {MAX_BODY} characters")
    out["body"] = body
    if SURROGATE.search(title) or SURROGATE.search(body):
        raise ValueError("'title' or 'body' holds a lone surrogate")
    level = data.get("level", "normal")
    if type(level) is not str or level not in LEVELS:
        raise ValueError("'level' is not exactly 'low', 'normal' or 'high'")
    out["level"] = level
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if type(text) is not str:
        raise ValueError("not a text frame")
    try:
        obj = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if type(obj) is not dict or obj.get("type") != "ack":
        raise ValueError("not an ack frame")
    ids = obj.get("ids")
    if type(ids) is not list or any(type(i) is not str for i in ids):
        raise ValueError("'ids' is not a list of strings")
    if any(SURROGATE.search(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.guard = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        with self.guard, self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS items (id TEXT PRIMARY KEY, user TEXT, seq INTEGER,"
                " title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)"
            )
            self.conn.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, n INTEGER)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with its id, seq and times."""
        with self.guard, self.conn:  # one transaction, committed on exit
            rows = self.conn.execute(
                "UPDATE seqs SET n = n + 1 WHERE user = ? RETURNING n", (user,)
            ).fetchall()
            row = rows[0] if rows else None
            if row is None:
                self.conn.execute("INSERT INTO seqs (user, n) VALUES (?, 1)", (user,))
                row = (1,)
            stamp = time.time()
            item = dict(
                id=uuid.uuid4().hex + "-" + str(row[0]),
                seq=row[0],
                user=user,
                title=fields["title"],
                body=fields.get("body", ""),
                level=fields.get("level", "normal"),
                created_at=stamp,
                expires_at=stamp + self.ttl,
            )
            self.conn.execute(
                f"INSERT INTO items ({','.join(KEYS)}) VALUES ({','.join('?' * len(KEYS))})",
                [item[k] for k in KEYS],
            )
            self.conn.execute("DELETE FROM items WHERE user = ? AND expires_at <= ?", (user, stamp))
            self.conn.execute(
                "DELETE FROM items WHERE user = ? AND seq NOT IN "
                "(SELECT seq FROM items WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.cap, 0)),
            )
        return item

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self.guard:
            now = time.time()
            with self.conn:  # the purge is a write: committed here
                self.conn.execute("DELETE FROM items WHERE expires_at <= ?", (now,))
            rows = self.conn.execute(
                f"SELECT {','.join(KEYS)} FROM items WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(KEYS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending ones."""
        distinct = sorted(set(ids))
        if not distinct:
            return 0
        with self.guard, self.conn:
            cur = self.conn.execute(
                "DELETE FROM items WHERE user = ? AND expires_at > ? AND id IN "
                "(SELECT value FROM json_each(?))",
                (user, time.time(), json.dumps(distinct)),
            )
            return cur.rowcount


@dataclass
class Hub:
    """What one create_app() call owns."""

    store: Store
    bus: Any
    send_timeout: float
    tabs: dict[str, list[WebSocket]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    created: int = 0

    def lock_for(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())


def notification_frame(item: dict[str, Any]) -> str:
    return json.dumps({"type": "notification", **{k: item[k] for k in KEYS}})


def high_validate(hub: Hub, note: Any) -> None:
    note.update(validate(note))


async def medium_store_and_push(hub: Hub, note: Any) -> None:
    try:
        fields = validate(note)
    except ValueError:
        return
    user = fields["user"]
    async with hub.lock_for(user):
        item = await asyncio.to_thread(hub.store.add, user, fields)  # committed first
        note.update(id=item["id"], seq=item["seq"], created_at=item["created_at"],
                    expires_at=item["expires_at"])
        note["delivered"] = await push(hub, user, item)


def low_audit(hub: Hub, note: Any) -> None:
    if isinstance(note, dict) and "seq" in note:
        hub.created += 1


async def push(hub: Hub, user: str, item: dict[str, Any]) -> int:
    text = notification_frame(item)
    reached = 0
    for ws in list(hub.tabs.get(user, ())):
        try:
            await asyncio.wait_for(ws.send_text(text), hub.send_timeout)
        except Exception:
            if ws in hub.tabs.get(user, ()):
                hub.tabs[user].remove(ws)
        else:
            reached += 1
    return reached


async def post_notification(hub: Hub, req: Any, res: Any) -> Any:
    raw = await req.body
    try:
        fields = validate(json.loads(raw.decode("utf-8")))
    except RecursionError:
        return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
    except ValueError as exc:  # bad UTF-8, bad JSON, bad field
        return res.json({"error": str(exc)}, status_code=422)
    note: dict[str, Any] = dict(fields)
    await hub.bus.emit("notification.created", note)
    if "seq" not in note:
        return res.json({"error": "not stored"}, status_code=422)
    return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                    status_code=201)


async def serve_tab(hub: Hub, ws: WebSocket) -> None:
    user = ws.path_params["user"]
    await ws.accept()
    if type(user) is not str or NAME.fullmatch(user) is None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": f"bad user name {user!r}"}
            )), hub.send_timeout)
            await asyncio.wait_for(ws.close(code=BAD_REQUEST_CLOSE), hub.send_timeout)
        except Exception:
            pass
        return
    joined = False
    try:
        async with hub.lock_for(user):
            items = await asyncio.to_thread(hub.store.pending, user)
            for item in items:
                await ws.send_text(notification_frame(item))
            await ws.send_text(json.dumps({"type": "backlog_end", "count": len(items)}))
            hub.tabs.setdefault(user, []).append(ws)
            joined = True
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
            try:
                ids = parse_ack(msg)
            except ValueError as exc:
                reason = str(exc)
                await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                               "message": reason}))
                try:
                    await hub.bus.emit("ws.error", {"user": user, "error": reason})
                except Exception:
                    pass
                continue
            count = await asyncio.to_thread(hub.store.ack, user, ids)
            await ws.send_text(json.dumps({"type": "acked", "count": count}))
    except Exception:
        pass  # the tab is gone
    finally:
        if joined and ws in hub.tabs.get(user, ()):
            hub.tabs[user].remove(ws)


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
    hub = Hub(Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), bus,
              send_timeout)
    bus.on("notification.created", functools.partial(high_validate, hub),
           priority=EventPriority.HIGH)
    bus.on("notification.created", functools.partial(medium_store_and_push, hub),
           priority=EventPriority.MEDIUM)
    bus.on("notification.created", functools.partial(low_audit, hub),
           priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        return await post_notification(hub, req, res)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        await serve_tab(hub, ws)

    return app
