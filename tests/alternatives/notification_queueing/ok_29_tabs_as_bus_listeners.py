"""Style: every open tab is a listener on a private day25 EventBus (one event per user, pushed with emit_concurrent), fields are checked by a declarative rule table, and the Store does its work in single SQL statements (UPSERT ... RETURNING, a window function for the cap, json_each for acks).

Follows: "`validate(data) -> dict` | the accepted notification with defaults, or `ValueError("<what is wrong>")`" (RULES: required user/title, `body` "" and `level` "normal" only when missing; present fields are checked, `null` and `""` refused; lengths by `len`, no strip, no normalisation; lone surrogates refused); "Invalid JSON, not an object, or a bad field: **422** `{"error": "<what is wrong>"}`, and **nothing is stored**" (the body is decoded as strict UTF-8 and parsed with ValueError and RecursionError caught, and validated before the emit); "its listeners run by priority: **HIGH** validate/enrich (defaults), **MEDIUM** store and push to every open tab of the user, **LOW** audit"; "Backlog first." / "Then live." (the backlog is sent outside the lock, caught up with anything stored meanwhile, and only the final check, `backlog_end` and joining the user's event happen under the user's lock, which also orders store-then-push: a tab still in its backlog is no listener yet, so it is not counted and gets the new one in its backlog); "`N` is how many distinct ids of the list were this user's pending (stored, unacknowledged, unexpired) notifications" (one DELETE with `user = ?`, `expires_at > now` and `id IN json_each(?)`: distinct, any length); "**TTL:**" (`expires_at <= now` is expired, with the stored `expires_at`); "**Cap and overflow rule:**" (ROW_NUMBER over seq DESC, rows past `max_per_user` deleted); "**Ids and order:**" and "**Durable:**" (a `user_seq` counter row per user, never lowered, committed with the row, uuid4 ids); "**Dead tabs:**" (each send under `wait_for(send_timeout)`, concurrently; a tab that fails takes itself off the bus and is not counted); "**Crash safety:**" (committed before the emit to the tabs); "Errors on the WebSocket" (bad_frame to that tab only, `ws.error` `{"user", "error"}` awaited, the loop goes on; a disconnect ends quietly); "4400 | bad user name at connect".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket

import day25
from day25 import EventBus, EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

_MISSING = object()
COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _text(value: Any) -> bool:
    """A str that is real text: no lone surrogate (it could not be encoded as UTF-8)."""
    return isinstance(value, str) and not any("\ud800" <= ch <= "\udfff" for ch in value)


# field, default (_MISSING: required), check, what is wrong
RULES: tuple[tuple[str, Any, Callable[[Any], bool], str], ...] = (
    ("user", _MISSING, lambda v: isinstance(v, str) and NAME.fullmatch(v) is not None,
     "user must be 1-32 characters of [A-Za-z0-9_.-] and nothing else"),
    ("title", _MISSING, lambda v: _text(v) and 1 <= len(v) <= MAX_TITLE and v.strip() != "",
     f"title must be text of 1-{MAX_TITLE} characters, not only whitespace"),
    ("body", "", lambda v: _text(v) and len(v) <= MAX_BODY,
     f"body must be text of at most {MAX_BODY} characters"),
    ("level", "normal", lambda v: isinstance(v, str) and v in LEVELS,
     "level must be exactly 'low', 'normal' or 'high'"),
)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification must be a JSON object")
    accepted: dict[str, str] = {}
    for field, default, ok, wrong in RULES:
        if field not in data:
            if default is _MISSING:
                raise ValueError(f"{field} is required")
            accepted[field] = default
        elif ok(data[field]):
            accepted[field] = data[field]
        else:
            raise ValueError(wrong)
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if not isinstance(text, str):
        raise ValueError("binary frames are not understood: send JSON text")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON ({type(exc).__name__})") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('a frame must be an object {"type": "ack", "ids": [...]}')
    ids = frame.get("ids", _MISSING)
    if not isinstance(ids, list) or not all(_text(one) for one in ids):
        raise ValueError("ids must be a list of strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS inbox (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self._db.execute("CREATE INDEX IF NOT EXISTS inbox_user_seq ON inbox (user, seq)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS user_seq (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock, self._db:
            now = time.time()
            (seq,) = self._db.execute(
                "INSERT INTO user_seq (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1 RETURNING last",
                (user,),
            ).fetchone()
            note = {"id": uuid.uuid4().hex, "seq": seq, "user": user, "title": fields["title"],
                    "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self._db.execute("INSERT INTO inbox VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             tuple(note[c] for c in COLUMNS))
            self._db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
            self._db.execute(
                "DELETE FROM inbox WHERE id IN (SELECT id FROM (SELECT id, ROW_NUMBER()"
                " OVER (ORDER BY seq DESC) AS rank FROM inbox WHERE user = ?) WHERE rank > ?)",
                (user, max(self.max_per_user, 0)),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._lock, self._db:
            now = time.time()
            self._db.execute("DELETE FROM inbox WHERE expires_at <= ?", (now,))
            rows = self._db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM inbox WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = json.dumps([one for one in ids if _text(one)])
        with self._lock, self._db:
            return self._db.execute(
                "DELETE FROM inbox WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT value FROM json_each(?))",
                (user, time.time(), wanted),
            ).rowcount


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
    tabs = EventBus(max_listeners=0)  # "tab:<user>": one listener per open tab of the user
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    created: defaultdict[str, int] = defaultdict(int)

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with locks[user]:
            note.update(store.add(user, note))  # committed before the push
            push = {"frame": {"type": "notification", **{c: note[c] for c in COLUMNS}},
                    "delivered": 0}
            await tabs.emit_concurrent(f"tab:{user}", push)
            note["delivered"] = push["delivered"]

    def audit(note: dict[str, Any]) -> None:
        created[note["user"]] += 1

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            note: dict[str, Any] = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or type(exc).__name__}, status_code=422)
        await app.events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
        except Exception:
            return False
        return True

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        event = f"tab:{user}"

        async def tab(push: dict[str, Any]) -> None:
            if await send(ws, push["frame"]):
                push["delivered"] += 1
            else:
                tabs.off(event, tab)  # dead: no later push tries it

        try:
            last, count = 0, 0
            joined = False
            while not joined:
                rows = [n for n in store.pending(user) if n["seq"] > last]
                if not rows:
                    async with locks[user]:
                        if not any(n["seq"] > last for n in store.pending(user)):
                            if not await send(ws, {"type": "backlog_end", "count": count}):
                                return
                            tabs.on(event, tab)
                            joined = True
                    continue
                for note in rows:
                    if not await send(ws, {"type": "notification", **note}):
                        return
                    last, count = note["seq"], count + 1
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
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            return  # the client went away: not an error
        finally:
            tabs.off(event, tab)

    return app
