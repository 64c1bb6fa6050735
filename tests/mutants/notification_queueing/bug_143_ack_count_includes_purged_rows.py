"""Bug: Store.ack purges every user's expired rows in the same transaction and counts its answer as the connection's total_changes difference, so the rows the purge deleted are added to the acked count.

Breaks: "`N` is how many distinct ids of the list were this user's pending (stored, unacknowledged, unexpired) notifications ... (`[]` gets a count of 0)." ... with ttl_seconds=0.5, bob gets a notification and nobody reads it; 0.6 s later ann gets one, connects and acks its id: she gets {"type": "acked", "count": 2} instead of 1 (bob's expired row was purged in her ack), and an ack of [] right after an expiry answers count 1.
"""

from __future__ import annotations

import asyncio
import functools
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

_SURROGATES = re.compile("[\ud800-\udfff]")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("body must be a JSON object")
    checked: dict[str, str] = {"body": "", "level": "normal"}
    if not isinstance(data.get("user"), str) or not NAME.fullmatch(data["user"]):
        raise ValueError("user must match [A-Za-z0-9_.-]{1,32}")
    checked["user"] = data["user"]
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not (1 <= len(title) <= MAX_TITLE) or title.strip() == "":
        raise ValueError(f"title must be 1-{MAX_TITLE} characters, not only whitespace")
    checked["title"] = title
    if "body" in data:
        if not isinstance(data["body"], str) or len(data["body"]) > MAX_BODY:
            raise ValueError(f"body must be a string of at most {MAX_BODY} characters")
        checked["body"] = data["body"]
    if _SURROGATES.search(checked["title"]) or _SURROGATES.search(checked["body"]):
        raise ValueError("title and body must be valid Unicode text")
    if "level" in data:
        if not isinstance(data["level"], str) or data["level"] not in LEVELS:
            raise ValueError("level must be one of low, normal, high")
        checked["level"] = data["level"]
    return checked


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("expected a text frame")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
        raise ValueError("the frame must be an object with a type")
    if frame["type"] != "ack":
        raise ValueError(f"unknown frame type {frame['type'][:40]!r}")
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(type(i) is str for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_SURROGATES.search(i) for i in ids):
        raise ValueError("ids must be valid Unicode text")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY,"
                " user TEXT NOT NULL, seq INTEGER NOT NULL, title TEXT NOT NULL,"
                " body TEXT NOT NULL, level TEXT NOT NULL, created_at REAL NOT NULL,"
                " expires_at REAL NOT NULL)")
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS next_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)")

    def _purge_expired(self, now: float) -> None:
        self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            row = self.db.execute("SELECT seq FROM next_seq WHERE user = ?", (user,)).fetchone()
            seq = row["seq"] if row else 1
            self.db.execute("INSERT OR REPLACE INTO next_seq VALUES (?, ?)", (user, seq + 1))
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.db.execute(
                "INSERT INTO notifications (id, user, seq, title, body, level, created_at,"
                " expires_at) VALUES (:id, :user, :seq, :title, :body, :level, :created_at,"
                " :expires_at)", note)
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND id NOT IN (SELECT id FROM"
                " notifications WHERE user = ? AND expires_at > ? ORDER BY seq DESC LIMIT ?)",
                (user, user, now, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notifications"
            " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, time.time())).fetchall()
        return [dict(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        now = time.time()
        with self.db:
            before = self.db.total_changes
            self._purge_expired(now)  # expired ones count 0: clear them out first
            for i in range(0, len(wanted), 500):
                chunk = wanted[i:i + 500]
                self.db.execute(
                    f"DELETE FROM notifications WHERE user = ? AND id IN"
                    f" ({', '.join('?' * len(chunk))})", (user, *chunk))
            return self.db.total_changes - before


async def send_frame(ws: WebSocket, frame: dict[str, Any], *, timeout: float) -> None:
    await asyncio.wait_for(ws.send_text(json.dumps(frame)), timeout)


async def push_ok(ws: WebSocket, frame: dict[str, Any], *, timeout: float) -> bool:
    try:
        await send_frame(ws, frame, timeout=timeout)
    except Exception:  # noqa: BLE001 - dead tab
        return False
    return True


def fill_defaults(note: dict[str, Any]) -> None:
    note.setdefault("body", "")
    note.setdefault("level", "normal")


async def store_and_push(store: Store, tabs: dict[str, set[WebSocket]],
                         locks: dict[str, asyncio.Lock], timeout: float,
                         note: dict[str, Any]) -> None:
    user = note["user"]
    async with locks.setdefault(user, asyncio.Lock()):
        stored = store.add(user, note)
        note.update(stored)
        targets = list(tabs.get(user, ()))
        frame = {"type": "notification", **stored}
        oks = await asyncio.gather(*(push_ok(ws, frame, timeout=timeout) for ws in targets))
        for ws, ok in zip(targets, oks):
            if not ok:
                tabs.get(user, set()).discard(ws)
        note["delivered"] = sum(oks)


def audit(counter: dict[str, int], note: dict[str, Any]) -> None:
    counter[note["user"]] = counter.get(note["user"], 0) + 1


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, set[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    counter: dict[str, int] = {}
    send = functools.partial(send_frame, timeout=send_timeout)

    app.events.on("notification.created", fill_defaults, priority=EventPriority.HIGH)
    app.events.on("notification.created",
                  functools.partial(store_and_push, store, tabs, locks, send_timeout),
                  priority=EventPriority.MEDIUM)
    app.events.on("notification.created", functools.partial(audit, counter),
                  priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            note = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "user must match [A-Za-z0-9_.-]{1,32}"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with locks.setdefault(user, asyncio.Lock()):
                backlog = store.pending(user)
                for note in backlog:
                    await send(ws, {"type": "notification", **note})
                await send(ws, {"type": "backlog_end", "count": len(backlog)})
                tabs.setdefault(user, set()).add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - disconnected
            pass
        finally:
            mine = tabs.get(user)
            if mine is not None:
                mine.discard(ws)
                if not mine:
                    del tabs[user]

    return app
