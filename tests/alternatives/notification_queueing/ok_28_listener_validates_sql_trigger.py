"""Style: an app built from closures; the HIGH listener is the only validator (the route answers 422 from the EmitResult's error), and the queue's rules live in SQL: seq from an upsert with RETURNING, TTL and cap from a per-connection TEMP trigger.

Follows: "Validate ... only in the HIGH listener (the route then answers 422 from the emit's error) ... a refused notification is never stored and uses no `seq`" (the HIGH listener raises `Refused`, marks the payload, and the MEDIUM and LOW listeners skip a marked payload),
"Invalid JSON, not an object, or a bad field: **422** `{"error": ...}` ... Never a 500" (json.loads of the raw bytes; ValueError, UnicodeDecodeError and RecursionError -> 422, and a value that is not an object, in the route; every field in the listener, whose `Refused` the route finds in `result.errors`),
"A default is for a **missing** field only" and "Other fields are ignored" (the listener rebuilds the payload from the four fields, with defaults only for absent keys),
"`seq` ... is never reused, not even after acknowledgements, expiry or a restart" (a seqs table, `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`; only notification rows are ever deleted),
"**Cap and overflow rule:** ... the **oldest (lowest seq) is dropped**" and "**TTL:** ... expired once `expires_at <= time.time()`" (an AFTER INSERT TEMP trigger with this Store's cap, so another Store on the same file keeps its own; reads and acks filter `expires_at > now`),
"a notification is committed to SQLite before it is pushed" (commit in Store.add, push afterwards),
"On connect the server sends every stored, unacknowledged, unexpired notification ... then `backlog_end` ... Only after `backlog_end` may live notifications arrive" (a per-user asyncio.Lock shared by the connect path and the store-and-push listener),
"`delivered` ... a tab whose send failed or timed out does not count" and "no later push tries it" (asyncio.wait_for per tab, gathered; failed tabs leave the live set at once),
"answers that tab (not the user's other tabs) `{"type": "acked", "count": N}`", "an id given twice counts once", and "A malformed frame ... `ws.error` ... the connection **stays open**" (bad frames are answered and reported, and the loop goes on).
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
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

REFUSED = "\x00refused"  # marks a refused payload; on success the payload is rebuilt without it


class Refused(ValueError):
    """A notification the HIGH listener refuses."""


def _text(value: Any) -> bool:
    """A real str: no lone surrogate (it could never be sent as UTF-8)."""
    return isinstance(value, str) and not re.search("[\ud800-\udfff]", value)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise Refused("expected a JSON object")
    for required in ("user", "title"):
        if required not in data:
            raise Refused(f"'{required}' is required")
    user, title = data["user"], data["title"]
    body = data["body"] if "body" in data else ""
    level = data["level"] if "level" in data else "normal"
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise Refused("'user' must be 1-32 characters of [A-Za-z0-9_.-]")
    if not _text(title) or len(title) > MAX_TITLE or not title.strip():
        raise Refused(f"'title' must be text of 1-{MAX_TITLE} characters, not only whitespace")
    if not _text(body) or len(body) > MAX_BODY:
        raise Refused(f"'body' must be text of at most {MAX_BODY} characters")
    if level not in LEVELS or not isinstance(level, str):
        raise Refused("'level' must be exactly 'low', 'normal' or 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if "text" not in message or message["text"] is None:
        raise ValueError("a binary frame: send JSON text")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if type(frame) is not dict:
        raise ValueError("a frame is a JSON object")
    if frame.get("type") != "ack":
        raise ValueError("the only frame a client sends is {\"type\": \"ack\", ...}")
    ids = frame.get("ids")
    if type(ids) is not list or not all(_text(i) for i in ids):
        raise ValueError("'ids' must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(
            f"""
            CREATE TABLE IF NOT EXISTS notifications (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS notifications_user ON notifications (user, seq);
            CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
            CREATE TEMP TRIGGER IF NOT EXISTS queue_rules AFTER INSERT ON main.notifications
            BEGIN
                DELETE FROM notifications
                 WHERE user = NEW.user AND expires_at <= NEW.created_at;
                DELETE FROM notifications WHERE id IN (
                    SELECT id FROM notifications WHERE user = NEW.user
                     ORDER BY seq DESC LIMIT -1 OFFSET {max(int(max_per_user), 0)});
            END;
            """
        )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            (seq,) = self.db.execute(
                "INSERT INTO seqs (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1 RETURNING last",
                (user,),
            ).fetchone()
            note = dict(id=str(uuid.uuid4()), seq=seq, user=user, title=fields["title"],
                        body=fields.get("body", ""), level=fields.get("level", "normal"),
                        created_at=now, expires_at=now + self.ttl_seconds)
            self.db.execute(
                "INSERT INTO notifications VALUES"
                " (:id, :seq, :user, :title, :body, :level, :created_at, :expires_at)",
                note,
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = self.db.execute(
                "SELECT * FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self.db:
            done = self.db.executemany(
                "DELETE FROM notifications WHERE id = ? AND user = ? AND expires_at > ?",
                [(i, user, now) for i in set(ids)],
            )
        return max(done.rowcount, 0)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, set[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit_log: list[tuple[str, int, int]] = []

    def user_lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def send(ws: WebSocket, frame: dict[str, Any]) -> WebSocket | None:
        """``ws`` if the frame went out within send_timeout, else None."""
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            return None
        return ws

    def skip_refused(listener: Any) -> Any:
        @functools.wraps(listener)
        def guarded(note: dict[str, Any]) -> Any:
            return None if REFUSED in note else listener(note)

        return guarded

    def check(note: dict[str, Any]) -> None:  # HIGH: validate and enrich
        try:
            accepted = validate(note)
        except ValueError as exc:
            note[REFUSED] = str(exc)  # the listeners after this one skip it
            raise
        note.clear()  # other fields are neither stored nor delivered
        note.update(accepted)

    @skip_refused
    async def store_and_push(note: dict[str, Any]) -> None:  # MEDIUM
        user = note["user"]
        async with user_lock(user):
            stored = store.add(user, note)
            note.update(stored)
            tabs = list(live.get(user, ()))
            reached = await asyncio.gather(
                *(send(ws, {"type": "notification", **stored}) for ws in tabs))
            for ws, ok in zip(tabs, reached):
                if ok is None:
                    live[user].discard(ws)
            note["delivered"] = sum(ok is not None for ok in reached)

    @skip_refused
    def audit(note: dict[str, Any]) -> None:  # LOW
        audit_log.append((note["user"], note["seq"], note["delivered"]))

    events.on("notification.created", check, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            payload = json.loads(raw)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        if type(payload) is not dict:
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note: dict[str, Any] = dict(payload)
        result = await events.emit("notification.created", note)
        refusal = next((e for e in result.errors if isinstance(e, Refused)), None)
        if refusal is not None:
            return res.json({"error": str(refusal)}, status_code=422)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user name must be 1-32 of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with user_lock(user):
                backlog = store.pending(user)
                frames = [{"type": "notification", **n} for n in backlog]
                frames.append({"type": "backlog_end", "count": len(backlog)})
                for frame in frames:
                    if await send(ws, frame) is None:
                        return
                live.setdefault(user, set()).add(ws)
            async for message in _frames(ws):
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await ws.send_text(json.dumps({"type": "acked",
                                                   "count": store.ack(user, ids)}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            live.get(user, set()).discard(ws)

    return app


async def _frames(ws: WebSocket) -> Any:
    """Every message the client sends, until it disconnects."""
    while (message := await ws.receive())["type"] != "websocket.disconnect":
        yield message
