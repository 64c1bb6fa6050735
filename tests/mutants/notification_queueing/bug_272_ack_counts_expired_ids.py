"""Exercise 4: notification_queueing (an assistant's answer, with one bug).

BUG (ack counts expired ids): the page says "Unknown ids, ids of **another
user's** notifications, ids acknowledged before and ids that expired (even if
not purged yet) count 0 and change nothing". ``Store.ack`` deletes by user and
id only, with no ``expires_at > now`` and no purge first, so an expired id that
was not purged yet counts 1. An assistant writes it because "DELETE is
idempotent, rowcount tells what went" covers every case it thought of.

Design: one row per unacknowledged notification plus a per-user ``last_seq``
table; one ``asyncio.Lock`` per user around "store, then push" and "backlog,
backlog_end, then live".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
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

_ACCEPTED = object()  # the HIGH listener's mark on a payload it accepted (no client can send it)


def _has_surrogate(text: str) -> bool:
    """True when ``text`` holds a lone surrogate (not encodable as UTF-8)."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def _is_name(user: Any) -> bool:
    return isinstance(user, str) and NAME.fullmatch(user) is not None


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError.

    ``body`` defaults to ``""`` and ``level`` to ``"normal"`` when the field is
    missing (``null`` or ``""`` is not missing: it is refused); other fields are
    ignored.
    """
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is required")
    user = data["user"]
    if not _is_name(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError('level must be exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``.

    Raises ``ValueError`` for anything else, and never any other exception.
    """
    try:
        if not isinstance(message, dict):
            raise ValueError("not a WebSocket message")
        text = message.get("text")
        if text is None:
            raise ValueError("binary frames are not accepted: send JSON text")
        if not isinstance(text, str):
            raise ValueError("the frame is not text")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("the frame is nested too deeply to parse") from None
        except ValueError as exc:
            raise ValueError(f"the frame is not JSON: {exc}") from None
        if not isinstance(frame, dict):
            raise ValueError("the frame must be a JSON object")
        kind = frame.get("type")
        if not isinstance(kind, str) or kind != "ack":
            raise ValueError('the frame\'s type must be "ack"')
        if "ids" not in frame:
            raise ValueError("an ack needs ids")
        ids = frame["ids"]
        if not isinstance(ids, list):
            raise ValueError("ids must be a list of strings")
        for item in ids:
            if not isinstance(item, str):
                raise ValueError("ids must be a list of strings")
            if _has_surrogate(item):
                raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # whatever else the frame manages to trigger
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


_SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notifications_by_user ON notifications (user, seq);
CREATE TABLE IF NOT EXISTS last_seq (
    user TEXT PRIMARY KEY,
    seq INTEGER NOT NULL
);
"""

_COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    Durable: a new ``Store`` on the same file (a restarted server) finds every
    unacknowledged notification, and each user's ``seq`` continues where it was.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self._db = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
        with self._db:
            self._db.executescript(_SCHEMA)

    def _purge(self, now: float) -> None:
        """Delete expired rows (inside the caller's transaction)."""
        self._db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        now = time.time()
        note = {
            "id": uuid.uuid4().hex,
            "seq": 0,
            "user": user,
            "title": fields["title"],
            "body": fields.get("body", ""),
            "level": fields.get("level", "normal"),
            "created_at": now,
            "expires_at": now + self.ttl_seconds,
        }
        with self._db:
            self._purge(now)  # expired rows must not count against the cap
            self._db.execute(
                "INSERT INTO last_seq (user, seq) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self._db.execute(
                "SELECT seq FROM last_seq WHERE user = ?", (user,)
            ).fetchone()
            note["seq"] = seq
            self._db.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[c] for c in ("id", "user", "seq", "title", "body", "level",
                                        "created_at", "expires_at")),
            )
            self._db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN ("
                " SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.max_per_user, 0)),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self._db:
            self._purge(now)
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM notifications "
                "WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(_COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        wanted = {i for i in ids if isinstance(i, str) and not _has_surrogate(i)}
        # DELETE is idempotent: acknowledging is removing the user's own rows. The set
        # makes a repeated id count once, and rowcount says how many rows really went,
        # so unknown ids, other users' ids and ids acknowledged before all count 0.
        with self._db:
            cur = self._db.executemany(
                "DELETE FROM notifications WHERE user = ? AND id = ?",
                [(user, note_id) for note_id in wanted],
            )
        return max(cur.rowcount, 0)


def _frame(note: dict[str, Any]) -> str:
    return json.dumps({"type": "notification", **{c: note[c] for c in _COLUMNS}})


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
    live: dict[str, list[WebSocket]] = defaultdict(list)  # this app's live tabs per user
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    audit = {"created": 0}

    async def send_within(ws: WebSocket, text: str) -> bool:
        """Send one frame within send_timeout; False when it failed or timed out."""
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
        except Exception:
            return False
        return True

    def drop(user: str, ws: WebSocket) -> None:
        tabs = live.get(user)
        if tabs is not None and ws in tabs:
            tabs.remove(ws)

    async def push(user: str, text: str) -> int:
        tabs = list(live.get(user, ()))
        results = await asyncio.gather(*(send_within(ws, text) for ws in tabs))
        for ws, ok in zip(tabs, results):
            if not ok:
                drop(user, ws)
        return sum(results)

    # -- listeners of notification.created -----------------------------------
    def check_and_fill(note: dict[str, Any]) -> None:
        """HIGH: validate and fill the defaults of a missing body/level."""
        note.pop(_ACCEPTED, None)
        accepted = validate(note)
        note.update(accepted)
        note[_ACCEPTED] = True

    async def store_and_push(note: dict[str, Any]) -> None:
        """MEDIUM: commit first, then push to every live tab of the user."""
        if note.get(_ACCEPTED) is not True:
            return
        user = note["user"]
        async with locks[user]:
            saved = store.add(user, {k: note[k] for k in ("title", "body", "level")})
            note["id"], note["seq"] = saved["id"], saved["seq"]
            note["delivered"] = await push(user, _frame(saved))

    def count_it(note: dict[str, Any]) -> None:
        """LOW: audit."""
        if note.get(_ACCEPTED) is True and "id" in note:
            audit["created"] += 1

    events.on("notification.created", check_and_fill, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count_it, priority=EventPriority.LOW)

    # -- routes ---------------------------------------------------------------
    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError included
            return res.json({"error": f"the body is not UTF-8 JSON: {exc}"}, status_code=422)
        try:
            note: dict[str, Any] = dict(validate(data))
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not _is_name(user):
            await send_within(ws, json.dumps({
                "type": "error", "code": "bad_request",
                "message": "the user name must be 1-32 characters of [A-Za-z0-9_.-]"}))
            try:
                await asyncio.wait_for(ws.close(BAD_REQUEST_CLOSE), send_timeout)
            except Exception:
                pass
            return
        joined = False
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    if not await send_within(ws, _frame(note)):
                        return  # gone (or stalled) in the middle of its backlog
                if not await send_within(ws, json.dumps({"type": "backlog_end",
                                                         "count": len(backlog)})):
                    return
                live[user].append(ws)
                joined = True
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send_within(ws, json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = store.ack(user, ids)
                await send_within(ws, json.dumps({"type": "acked", "count": count}))
        except Exception:  # the client went away mid-receive: a normal disconnect
            return
        finally:
            if joined:
                drop(user, ws)

    return app
