"""Correct solution, closure style: create_app keeps its state in local variables and nested functions, the HIGH listener validates (the route answers 422 from what it found), and the store soft-deletes (an acked_at column) with a separate per-user counter table.

Follows: "Validate in the route before the emit, or only in the HIGH listener (the route then
answers 422 from the emit's error): both are fine. Either way a refused notification is never
stored and uses no `seq`; whether `notification.created` was emitted for it is up to you."
And: "Restarting the app with the same `db_path` loses nothing unacknowledged, and `seq`
continues where it was (even when every notification was acknowledged: `MAX(seq)` of the rows
left is not enough if acknowledged rows are deleted)."
And: "`N` is how many distinct ids of the list were this user's pending (stored,
unacknowledged, unexpired) notifications".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

FRAME_KEYS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _is_text(value: str) -> bool:
    """False for a string holding a lone surrogate (it has no UTF-8 form)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_user(value: Any) -> str | None:
    if not isinstance(value, str) or NAME.fullmatch(value) is None:
        return "user must be 1-32 characters of [A-Za-z0-9_.-]"
    return None


def _check_title(value: Any) -> str | None:
    if not isinstance(value, str):
        return "title must be a string"
    if not 0 < len(value) <= MAX_TITLE:
        return f"title must be 1-{MAX_TITLE} characters long"
    if value.strip() == "":
        return "title must not be only whitespace"
    if not _is_text(value):
        return "title holds a lone surrogate"
    return None


def _check_body(value: Any) -> str | None:
    if not isinstance(value, str):
        return "body must be a string"
    if len(value) > MAX_BODY:
        return f"body must be at most {MAX_BODY} characters long"
    if not _is_text(value):
        return "body holds a lone surrogate"
    return None


def _check_level(value: Any) -> str | None:
    if not isinstance(value, str) or value not in LEVELS:
        return "level must be exactly one of " + ", ".join(LEVELS)
    return None


# field -> (checker, default when missing; None means the field is required)
RULES = {
    "user": (_check_user, None),
    "title": (_check_title, None),
    "body": (_check_body, ""),
    "level": (_check_level, "normal"),
}


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    accepted: dict[str, str] = {}
    for field, (check, default) in RULES.items():
        if field not in data:
            if default is None:
                raise ValueError(f"{field} is missing")
            accepted[field] = default
            continue
        problem = check(data[field])
        if problem:
            raise ValueError(problem)
        accepted[field] = data[field]
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("a frame must be JSON text, binary frames are refused")
    try:
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("the frame's JSON is nested too deep") from None
    except ValueError:
        raise ValueError("the frame is not valid JSON") from None
    match frame:
        case {"type": "ack", "ids": list(ids)}:
            pass
        case {"type": "ack"}:
            raise ValueError('an ack frame needs "ids": a list of strings')
        case dict():
            raise ValueError('the frame\'s "type" must be "ack"')
        case _:
            raise ValueError("the frame must be a JSON object")
    if not all(isinstance(i, str) and _is_text(i) for i in ids):
        raise ValueError('"ids" must be a list of strings')
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    Acknowledged rows stay (``acked_at`` set) and are never returned again; expired rows
    are purged. ``seq`` comes from the ``counters`` table, which is never lowered.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self._ttl = float(ttl_seconds)
        self._cap = int(max_per_user)
        self._mutex = threading.RLock()
        self._conn = sqlite3.connect(path, check_same_thread=False)
        with self._mutex, self._conn:
            self._conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS counters (
                    user TEXT PRIMARY KEY,
                    last INTEGER NOT NULL
                );
                CREATE TABLE IF NOT EXISTS notes (
                    id TEXT PRIMARY KEY,
                    user TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    level TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL NOT NULL,
                    acked_at REAL
                );
                CREATE INDEX IF NOT EXISTS notes_user_seq ON notes (user, seq);
                """
            )

    def _next_seq(self, user: str) -> int:
        row = self._conn.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
        seq = 1 if row is None else row[0] + 1
        self._conn.execute(
            "INSERT INTO counters (user, last) VALUES (?, ?)"
            " ON CONFLICT (user) DO UPDATE SET last = excluded.last",
            (user, seq),
        )
        return seq

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._mutex, self._conn:
            now = time.time()
            note: dict[str, Any] = {
                "id": uuid.uuid4().hex,
                "seq": self._next_seq(user),
                "user": user,
                "title": fields["title"],
                "body": fields["body"],
                "level": fields["level"],
                "created_at": now,
                "expires_at": now + self._ttl,
            }
            self._conn.execute(
                "INSERT INTO notes (id, user, seq, title, body, level, created_at, expires_at)"
                " VALUES (:id, :user, :seq, :title, :body, :level, :created_at, :expires_at)",
                note,
            )
            waiting = [
                row[0]
                for row in self._conn.execute(
                    "SELECT id FROM notes WHERE user = ? AND acked_at IS NULL ORDER BY seq",
                    (user,),
                )
            ]
            overflow = waiting[: max(len(waiting) - self._cap, 0)]  # the oldest go
            self._conn.executemany("DELETE FROM notes WHERE id = ?", [(i,) for i in overflow])
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._mutex, self._conn:
            now = time.time()
            self._conn.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            cursor = self._conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notes"
                " WHERE user = ? AND acked_at IS NULL AND expires_at > ? ORDER BY seq ASC",
                (user, now),
            )
            return [dict(zip(FRAME_KEYS, row)) for row in cursor]

    def ack(self, user: str, ids: list[str]) -> int:
        acked = 0
        with self._mutex, self._conn:
            now = time.time()
            for note_id in set(ids):
                acked += self._conn.execute(
                    "UPDATE notes SET acked_at = ? WHERE id = ? AND user = ?"
                    " AND acked_at IS NULL AND expires_at > ?",
                    (now, note_id, user, now),
                ).rowcount
        return acked


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, set[WebSocket]] = {}
    gates: dict[str, asyncio.Lock] = {}
    audit_log: list[tuple[str, int, int]] = []

    def gate(user: str) -> asyncio.Lock:
        if user not in gates:
            gates[user] = asyncio.Lock()
        return gates[user]

    def encode(frame: dict[str, Any]) -> str:
        return json.dumps(frame)  # ASCII: escapes anything that is not

    def as_frame(note: dict[str, Any]) -> str:
        return encode({"type": "notification", **{k: note[k] for k in FRAME_KEYS}})

    async def deliver(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), timeout=send_timeout)
            return True
        except (asyncio.TimeoutError, WebSocketDisconnect, OSError, RuntimeError):
            return False

    # HIGH: validate and fill the defaults; a refused one is marked, never stored
    def check(note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except ValueError as exc:
            note["rejected"] = str(exc)
            return
        note.clear()
        note.update(accepted)

    # MEDIUM: commit, then push to every live tab of the user
    async def store_and_push(note: dict[str, Any]) -> None:
        if "rejected" in note:
            return
        user = note["user"]
        async with gate(user):
            saved = store.add(user, note)
            tabs = list(live.get(user, ()))
            outcomes = await asyncio.gather(*(deliver(ws, as_frame(saved)) for ws in tabs))
            for ws, reached in zip(tabs, outcomes):
                if not reached:
                    live.get(user, set()).discard(ws)
        note.update(saved, delivered=sum(outcomes))

    # LOW: audit
    def audit(note: dict[str, Any]) -> None:
        if "rejected" not in note:
            audit_log.append((note["user"], note["seq"], note["delivered"]))

    bus.on("notification.created", check, priority=EventPriority.HIGH)
    bus.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        body: bytes = await req.body
        try:
            text = body.decode("utf-8")  # RFC 8259: UTF-8, no guessing
            data = json.loads(text)
        except UnicodeDecodeError:
            return res.json({"error": "the body is not UTF-8"}, status_code=422)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deep"}, status_code=422)
        except ValueError:
            return res.json({"error": "the body is not valid JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "a notification is a JSON object"}, status_code=422)
        note: dict[str, Any] = dict(data)
        result = await bus.emit("notification.created", note)
        if "rejected" in note:
            return res.json({"error": note["rejected"]}, status_code=422)
        if not result.ok or "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications_socket(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if _check_user(user) is not None:
            try:
                await ws.send_text(encode({
                    "type": "error", "code": "bad_request", "message": str(_check_user(user)),
                }))
                await ws.close(BAD_REQUEST_CLOSE)
            except (WebSocketDisconnect, OSError, RuntimeError):
                pass
            return
        async with gate(user):
            backlog = store.pending(user)
            for note in backlog:
                if not await deliver(ws, as_frame(note)):
                    return  # gone (or stalled) mid-backlog: a goodbye, not an error
            if not await deliver(ws, encode({"type": "backlog_end", "count": len(backlog)})):
                return
            live.setdefault(user, set()).add(ws)
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as problem:
                    await ws.send_text(encode(
                        {"type": "error", "code": "bad_frame", "message": str(problem)}))
                    await bus.emit("ws.error", {"user": user, "error": str(problem)})
                else:
                    await ws.send_text(encode({"type": "acked", "count": store.ack(user, ids)}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            live.get(user, set()).discard(ws)

    return app
