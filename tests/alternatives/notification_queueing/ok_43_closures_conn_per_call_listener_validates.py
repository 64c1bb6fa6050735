"""Style: closures only, validation done in the HIGH listener (the route answers 422 from its error), and a Store that opens a short-lived SQLite connection per call inside `with` (commit or rollback).

Follows: "Validate in the route before the emit, or only in the HIGH listener (the route then answers 422 from the emit's error)": the HIGH listener validates and replaces the payload, the route answers 422 only when that payload was not accepted, 201 when the MEDIUM listener stored it (another listener's error changes nothing); "a `seq` that is never reused": a `counters` table bumped in the same transaction as the insert; "commit every write, a purge too": every call is one `with conn:` transaction on a connection closed right after; "the oldest (lowest seq) is dropped": rows beyond the newest `max_per_user`; "One lock per user around 'store, then push' and 'backlog, backlog_end, then join'"; "drops that tab from the live ones": a push or backlog send that fails or exceeds `send_timeout` takes the tab out (or never lets it in); "`acked`... distinct ids ... this user's pending": DELETE by id, user and `expires_at > now`, each distinct id once; bad frames get `bad_frame` on that tab only plus `ws.error {"user", "error"}`, and the socket stays open.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
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

_MISSING = object()


def _is_text(value: str) -> bool:
    """False for a string holding a lone surrogate (not encodable as UTF-8)."""
    return not any("\ud800" <= ch <= "\udfff" for ch in value)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user", _MISSING)
    if user is _MISSING:
        raise ValueError("user is missing")
    if type(user) is not str or not NAME.fullmatch(user):
        raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title", _MISSING)
    if title is _MISSING:
        raise ValueError("title is missing")
    if type(title) is not str or not 0 < len(title) <= MAX_TITLE:
        raise ValueError(f"title: text of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title: not only whitespace")
    body = data.get("body", "")
    if type(body) is not str or len(body) > MAX_BODY:
        raise ValueError(f"body: text of at most {MAX_BODY} characters")
    if not (_is_text(title) and _is_text(body)):
        raise ValueError("title and body must not hold a lone surrogate")
    level = data.get("level", "normal")
    if type(level) is not str or level not in LEVELS:
        raise ValueError(f"level: one of {', '.join(LEVELS)}")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text")
    except AttributeError:
        raise ValueError("not a WebSocket message") from None
    if type(text) is not str:
        raise ValueError("a binary frame: frames are JSON text")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("not JSON: nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if type(frame) is not dict:
        raise ValueError("a frame is a JSON object")
    if frame.get("type") != "ack" or type(frame.get("type")) is not str:
        raise ValueError('the only frame a client sends is {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if type(ids) is not list or not all(type(i) is str and _is_text(i) for i in ids):
        raise ValueError("ids: a list of strings")
    return ids


_COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with closing(self._connect()) as conn, conn:
            conn.execute("CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER,"
                         " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL,"
                         " expires_at REAL)")
            conn.execute("CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY,"
                         " last INTEGER NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        with closing(self._connect()) as conn, conn:
            conn.execute("INSERT OR IGNORE INTO counters VALUES (?, 0)", (user,))
            conn.execute("UPDATE counters SET last = last + 1 WHERE user = ?", (user,))
            (seq,) = conn.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            note = dict(zip(_COLUMNS, (uuid.uuid4().hex, seq, user, fields["title"],
                                       fields.get("body", ""), fields.get("level", "normal"),
                                       created, created + self.ttl_seconds)))
            conn.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         [note[c] for c in _COLUMNS])
            conn.execute("DELETE FROM queue WHERE expires_at <= ?", (created,))
            conn.execute("DELETE FROM queue WHERE user = ? AND seq <= (SELECT seq FROM queue"
                         " WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                         (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with closing(self._connect()) as conn, conn:
            conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM queue WHERE user = ?"
                                " AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(_COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with closing(self._connect()) as conn, conn:
            return sum(conn.execute("DELETE FROM queue WHERE id = ? AND user = ?"
                                    " AND expires_at > ?", (one, user, now)).rowcount
                       for one in set(ids))


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The notification app: POST /notifications and the /notifications/{user} WebSocket."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    locks: dict[str, asyncio.Lock] = {}
    tabs: dict[str, dict[WebSocket, None]] = {}  # user -> live tabs, in join order
    audited = {"count": 0}

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def deliver(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
            return True
        except Exception:
            return False

    def check(note: dict[str, Any]) -> None:  # HIGH: validate and enrich
        given = dict(note)
        note.clear()  # what the client sent is gone, whatever keys it used
        note.update(validate(given), accepted=True)

    async def store_and_push(note: dict[str, Any]) -> None:  # MEDIUM
        if note.get("accepted") is not True:
            return
        user = note["user"]
        async with lock_of(user):
            stored = store.add(user, note)
            note["stored"] = stored
            frame = {"type": "notification", **stored}
            targets = list(tabs.get(user, {}))
            reached = await asyncio.gather(*(deliver(ws, frame) for ws in targets))
            for ws, ok in zip(targets, reached):
                if not ok:
                    tabs.get(user, {}).pop(ws, None)
            note["delivered"] = sum(reached)

    def audit(note: dict[str, Any]) -> None:  # LOW
        if "stored" in note:
            audited["count"] += 1

    bus.on("notification.created", check, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            payload = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON text"}, status_code=422)
        if not isinstance(payload, dict):
            return res.json({"error": "a notification is a JSON object"}, status_code=422)
        note = dict(payload)
        result = await bus.emit("notification.created", note)
        if note.get("accepted") is not True:
            refusals = [e for e in result.errors if isinstance(e, ValueError)]
            message = str(refusals[0]) if refusals else "refused"
            return res.json({"error": message}, status_code=422)
        if "stored" not in note:
            return res.json({"error": "could not store the notification"}, status_code=500)
        stored = note["stored"]
        return res.json({"id": stored["id"], "seq": stored["seq"],
                         "delivered": note["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def receive(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user: 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        async with lock_of(user):
            backlog = store.pending(user)
            frames = [{"type": "notification", **n} for n in backlog]
            frames.append({"type": "backlog_end", "count": len(backlog)})
            for frame in frames:
                if not await deliver(ws, frame):
                    return  # gone (or stalled) during its backlog: never live
            tabs.setdefault(user, {})[ws] = None
        try:
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the connection broke: nothing to report, the tab just leaves
        finally:
            tabs.get(user, {}).pop(ws, None)

    return app
