"""Style: a background task purges expired rows every 0.2 s, so the app is never idle.

Notifications with an offline queue, delivered over WebSockets. The protocol
is in ``docs/exercises/notification_queueing.md``. The parts:

* :func:`validate` and :func:`parse_ack` say what is wrong with bad input, so
  only its sender notices and nothing is stored. Hostile input is bad input
  too: JSON is read as UTF-8 only, any depth of nesting is a ValueError
  (never a RecursionError), and a string holding a lone surrogate
  (``"\\ud800"``, valid escaped JSON but not text) is refused, so nothing
  stored can ever fail to encode when it is sent;
* :class:`Store` is the durable queue, on ``sqlite3`` directly: ids, a per-user
  ``seq`` that is never reused (a counter table, not ``MAX(seq)``: acknowledged
  rows are deleted), the TTL, the per-user cap that drops the oldest, and acks;
* :func:`create_app` runs ``notification.created`` through listeners by
  priority (HIGH enrich, MEDIUM store and push, LOW audit) and serves the
  WebSocket: backlog, ``backlog_end``, then live.

Why a per-user lock: "store, then push to the live tabs" and "send the
backlog, then become a live tab" must not interleave, or a notification
created while a tab connects would arrive twice, or before ``backlog_end``.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
SURROGATE = re.compile(r"[\ud800-\udfff]")  # lone surrogates: not text
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    UNIQUE (user, seq)
);
CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL);
"""
COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def loads(text: str) -> Any:
    """The JSON value in ``text``, or ValueError: never any other exception.

    Why not ``json.loads`` alone: a document nested deeper than the
    interpreter's recursion limit (100,000 ``[``) raises RecursionError, which
    is bad input, not a crash. (Bytes are decoded as UTF-8 first, by the
    caller: given bytes, ``json.loads`` would also guess UTF-16 or UTF-32.)
    """
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def is_text(value: object) -> bool:
    """Whether ``value`` is a string of Unicode text: no lone surrogate.

    ``"\\ud800"`` is valid escaped JSON, but no UTF-8 can hold what it decodes
    to: stored, it would make SQLite or every later send of it fail.
    """
    return isinstance(value, str) and SURROGATE.search(value) is None


def validate(data: Any) -> dict[str, str]:
    """The accepted notification, or ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    user, title = data.get("user"), data.get("title")
    body, level = data.get("body", ""), data.get("level", "normal")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("'user' must be 1-32 characters of A-Z a-z 0-9 _ . -")
    if not is_text(title) or not title.strip() or len(title) > MAX_TITLE:
        raise ValueError(f"'title' must be text of 1-{MAX_TITLE} characters, "
                         "not only whitespace")
    if not is_text(body) or len(body) > MAX_BODY:
        raise ValueError(f"'body' must be text of at most {MAX_BODY} characters")
    if level not in LEVELS:  # exact: "HIGH", "" and null are not levels
        raise ValueError(f"'level' must be one of {', '.join(LEVELS)}")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ``ack`` frame, or ValueError saying what is wrong."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = loads(text)
    except ValueError as exc:
        raise ValueError(f"the frame is not valid JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(is_text(i) for i in ids):
        raise ValueError("'ids' must be a list of id strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    One connection, used from whichever thread runs the app (hence
    ``check_same_thread=False``; the app's calls never overlap: they run on
    one event loop). Each method is one transaction.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.executescript(SCHEMA)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with its id, seq and times."""
        now = time.time()
        note = {"id": uuid.uuid4().hex, "user": user, "title": fields["title"],
                "body": fields["body"], "level": fields["level"],
                "created_at": now, "expires_at": now + self.ttl_seconds}
        with self.db:
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            self.db.execute("INSERT INTO last_seq VALUES (?, 1) "
                            "ON CONFLICT (user) DO UPDATE SET seq = seq + 1", (user,))
            (note["seq"],) = self.db.execute("SELECT seq FROM last_seq WHERE user = ?",
                                             (user,)).fetchone()
            self.db.execute("INSERT INTO notifications (id, user, seq, title, body, level, "
                            "created_at, expires_at) VALUES (:id, :user, :seq, :title, :body, "
                            ":level, :created_at, :expires_at)", note)
            # the cap: keep the user's newest max_per_user, drop the older ones
            self.db.execute("DELETE FROM notifications WHERE user = ? AND seq NOT IN "
                            "(SELECT seq FROM notifications WHERE user = ? "
                            "ORDER BY seq DESC LIMIT ?)", (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self.db:
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (time.time(),))
            rows = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM notifications "
                                   "WHERE user = ? ORDER BY seq", (user,)).fetchall()
        return [dict(zip(COLUMNS, row, strict=True)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``: gone for good. How many were this user's pending ones."""
        now = time.time()
        with self.db:
            cur = self.db.executemany("DELETE FROM notifications WHERE user = ? AND id = ? "
                                      "AND expires_at > ?", [(user, i, now) for i in set(ids)])
        return cur.rowcount

    def close(self) -> None:
        self.db.close()


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with ``POST /notifications`` and ``/notifications/{user}``."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: defaultdict[str, set[WebSocket]] = defaultdict(set)  # user -> live connections
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit: Counter[str] = Counter()

    async def push(user: str, frame: dict[str, Any]) -> int:
        """Send ``frame`` to every live tab of ``user``; drop the tabs whose send failed."""
        text = json.dumps(frame)
        live = list(tabs[user])

        async def send(ws: WebSocket) -> None:
            await asyncio.wait_for(ws.send_text(text), send_timeout)

        outcomes = await asyncio.gather(*(send(ws) for ws in live), return_exceptions=True)
        for ws, outcome in zip(live, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                tabs[user].discard(ws)
        return sum(not isinstance(outcome, BaseException) for outcome in outcomes)

    @events.on("notification.created", priority=EventPriority.HIGH)
    def enrich(notice: dict[str, Any]) -> None:
        notice.update(validate(notice))  # defaults filled, and a second line of defence

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(notice: dict[str, Any]) -> None:
        user = notice["user"]
        async with locks[user]:
            note = store.add(user, notice)
            delivered = await push(user, {"type": "notification", **note})
        notice.update(id=note["id"], seq=note["seq"], delivered=delivered)

    @events.on("notification.created", priority=EventPriority.LOW)
    def audit_it(notice: dict[str, Any]) -> None:
        audit[notice["user"]] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = loads((await req.body).decode("utf-8"))
        except ValueError as exc:  # not UTF-8 (UnicodeDecodeError), not JSON, absurd nesting
            return res.json({"error": f"the body is not valid JSON ({exc})"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", notice)
        if not result.ok or "id" not in notice:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        reply = {"id": notice["id"], "seq": notice["seq"], "delivered": notice["delivered"]}
        return res.json(reply, status_code=201)

    housekeeping: list[asyncio.Task[None]] = []

    async def purge_expired() -> None:
        while True:
            await asyncio.sleep(0.2)
            try:
                with store.db:
                    store.db.execute("DELETE FROM notifications WHERE expires_at <= ?",
                                     (time.time(),))
            except sqlite3.Error:
                return  # the store was closed: the app is gone

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        if not housekeeping:
            housekeeping.append(asyncio.create_task(purge_expired()))
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user name in the path must be 1-32 characters "
                                           "of A-Z a-z 0-9 _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                frames = [{"type": "notification", **note} for note in backlog]
                try:  # each send bounded like a push's: a tab stalled here never joins,
                    for frame in [*frames, {"type": "backlog_end", "count": len(backlog)}]:
                        await asyncio.wait_for(ws.send_json(frame), send_timeout)
                except TimeoutError:  # and the user's next POST does not wait on it
                    return
                tabs[user].add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:  # recorded first: the sender may be gone already
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except WebSocketDisconnect:
            pass  # a normal disconnect, not an error
        finally:
            tabs[user].discard(ws)

    return app
