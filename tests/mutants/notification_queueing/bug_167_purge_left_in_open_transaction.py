"""Bug: pending() runs its purge DELETE without committing, so sqlite3's implicit transaction stays open and the connection keeps SQLite's write lock after every backlog.

Breaks: "Each `create_app` call works with its own `ttl_seconds` and `max_per_user`, also when an earlier app in the same process (a notebook cell run again) used that `db_path`." ... "Never a 500" ... after a tab connected to the first app, a second create_app on the same db_path cannot write: its POST waits out the 5 s busy timeout and answers 500 ("database is locked").
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
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


def _text(name: str, value: Any, low: int, high: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if not low <= len(value) <= high:
        raise ValueError(f"{name} must be {low}-{high} characters long")
    try:
        value.encode("utf-8", "strict")
    except UnicodeEncodeError:
        raise ValueError(f"{name} holds a lone surrogate") from None
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    for required in ("user", "title"):
        if required not in data:
            raise ValueError(f"{required} is missing")
    merged = {key: data[key] if key in data else DEFAULTS[key] for key in DEFAULTS}
    user = data["user"]
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    title = _text("title", data["title"], 1, MAX_TITLE)
    if "".join(title.split()) == "":
        raise ValueError("title is only whitespace")
    body = _text("body", merged["body"], 0, MAX_BODY)
    level = merged["level"]
    if not any(isinstance(level, str) and level == known for known in LEVELS):
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frame")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict) or not isinstance(frame.get("type"), str) \
            or frame["type"] != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list of strings")
    for one in ids:
        _text("every id", one, 0, float("inf"))  # type: ignore[arg-type]
    return list(ids)


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    One row per notification holds it as a JSON document; ``(user, seq)`` is the key
    and a ``seqs`` table remembers each user's last number.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds, self.max_per_user = ttl_seconds, max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        with self.conn:
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS docs (user TEXT NOT NULL, seq INTEGER NOT NULL,"
                " nid TEXT NOT NULL UNIQUE, expires_at REAL NOT NULL, doc TEXT NOT NULL,"
                " PRIMARY KEY (user, seq)) WITHOUT ROWID")
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, last INTEGER NOT NULL)")
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS wanted (nid TEXT PRIMARY KEY)")

    def _purge(self, user: str, now: float) -> None:
        self.conn.execute("DELETE FROM docs WHERE user = ? AND expires_at <= ?", (user, now))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it."""
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO seqs VALUES (?, 0)", (user,))
            self.conn.execute("UPDATE seqs SET last = last + 1 WHERE user = ?", (user,))
            seq = self.conn.execute("SELECT last FROM seqs WHERE user = ?", (user,)).fetchone()[0]
            now = time.time()
            note = {"id": f"n-{uuid.uuid4().hex}", "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self.conn.execute("INSERT INTO docs VALUES (?, ?, ?, ?, ?)",
                              (user, seq, note["id"], note["expires_at"], json.dumps(note)))
            self._purge(user, now)
            keep = self.conn.execute(
                "SELECT seq FROM docs WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (user, max(self.max_per_user, 0) - 1),
            ).fetchone() if self.max_per_user > 0 else None
            if self.max_per_user <= 0:
                self.conn.execute("DELETE FROM docs WHERE user = ?", (user,))
            elif keep is not None:
                self.conn.execute("DELETE FROM docs WHERE user = ? AND seq < ?", (user, keep[0]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        self._purge(user, now)  # housekeeping only: the next add() or ack() commits it
        docs = self.conn.execute(
            "SELECT doc FROM docs WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now)).fetchall()
        return [json.loads(doc) for (doc,) in docs]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM wanted")
            self.conn.executemany("INSERT OR IGNORE INTO wanted VALUES (?)",
                                  zip(ids))
            gone = self.conn.execute(
                "DELETE FROM docs WHERE user = ? AND expires_at > ?"
                " AND nid IN (SELECT nid FROM wanted)", (user, now)).rowcount
            self.conn.execute("DELETE FROM wanted")
        return gone


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tab_numbers = itertools.count(1)
    live: dict[str, dict[int, WebSocket]] = defaultdict(dict)  # user -> tab number -> socket
    gates: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    log: list[tuple[str, int]] = []

    async def push_one(ws: WebSocket, frame: dict[str, Any]) -> None:
        await asyncio.wait_for(ws.send_json(frame), timeout=send_timeout)

    async def push_all(user: str, frame: dict[str, Any]) -> int:
        tabs = dict(live.get(user, {}))
        if not tabs:
            return 0
        tasks = {number: asyncio.ensure_future(push_one(ws, frame)) for number, ws in tabs.items()}
        await asyncio.wait(tasks.values())
        reached = 0
        for number, task in tasks.items():
            if task.exception() is None:
                reached += 1
            else:
                live[user].pop(number, None)
        return reached

    def with_defaults(note: dict[str, Any]) -> None:
        for key, value in DEFAULTS.items():
            note.setdefault(key, value)

    async def keep_and_push(note: dict[str, Any]) -> None:
        async with gates[note["user"]]:
            stored = store.add(note["user"], note)
            note.update(stored)
            note["delivered"] = await push_all(note["user"], {"type": "notification", **stored})

    def write_log(note: dict[str, Any]) -> None:
        log.append((note["user"], note["seq"]))

    bus.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    bus.on("notification.created", keep_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", write_log, priority=EventPriority.LOW)

    def refuse(why: str) -> tuple[dict[str, str], int]:
        return {"error": why}, 422

    async def read_notification(req: Any) -> tuple[dict[str, Any], int]:
        raw = await req.body
        try:
            data = json.loads(str(raw, "utf-8"))
        except RecursionError:
            return refuse("JSON nested too deep")
        except ValueError as exc:
            return refuse(f"invalid JSON: {exc}")
        try:
            accepted = validate(data)
        except ValueError as exc:
            return refuse(str(exc))
        await bus.emit("notification.created", accepted)
        if "seq" not in accepted:
            return {"error": "the notification could not be stored"}, 500
        return {key: accepted[key] for key in ("id", "seq", "delivered")}, 201

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        payload, status = await read_notification(req)
        return res.json(payload, status_code=status)

    async def reply(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await push_one(ws, frame)
        except Exception:
            return False
        return True

    @app.ws_route("/notifications/{user}")
    async def tab(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not (isinstance(user, str) and NAME.fullmatch(user)):
            if await reply(ws, {"type": "error", "code": "bad_request",
                                "message": f"bad user name {user!r}"}):
                try:
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
            return
        number = next(tab_numbers)
        try:
            async with gates[user]:
                rows = store.pending(user)
                for row in rows:
                    if not await reply(ws, {"type": "notification", **row}):
                        return
                if not await reply(ws, {"type": "backlog_end", "count": len(rows)}):
                    return
                live[user][number] = ws
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await reply(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await reply(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the client left
        finally:
            live[user].pop(number, None)

    return app
