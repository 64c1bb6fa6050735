"""Style: plain closures in create_app, a fresh sqlite3 connection for every Store call (committed by its context manager, then closed), the whole ack done in one `json_each` statement, and live pushes run in an `asyncio.TaskGroup`.

Follows: "Validate in the route before the emit" (validate() runs on the decoded body before `notification.created` is awaited, so "a refused notification is never stored and uses no `seq`"); "**HIGH** validate/enrich (defaults), **MEDIUM** store and push to every open tab of the user, **LOW** audit" (three listeners registered once in create_app); "`seq` increases by one per user and is never reused, not even after acknowledgements, expiry or a restart" (a `seqs` counter row per user, upserted in the same transaction as the notification and never deleted); "no app leaves a transaction open on the file (commit every write, a purge too)" (each call opens its own connection, `with conn:` commits or rolls back, then it is closed); "it is expired once `expires_at <= time.time()`" (every query filters `expires_at > ?`); "when a new one would exceed the cap, the **oldest (lowest seq) is dropped**" (rows ranked newest first, those past max_per_user deleted); "`N` is how many distinct ids of the list were this user's pending ... The list has no length limit" (the ids travel as one JSON array, `SELECT DISTINCT value FROM json_each(?)`, no SQL variable per id); "Backlog first ... Then live" (a per-user asyncio.Lock around backlog+join and store+push); "a push to a tab that fails, or takes longer than `send_timeout` seconds, drops that tab" (each push is an `asyncio.timeout(send_timeout)` task, the failed tabs are removed from the user's set); "A malformed frame ... gets exactly `{"type": "error", "code": "bad_frame", ...}` ... the app emits `ws.error` ... the connection **stays open**".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from contextlib import closing
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

COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


def _text_ok(value: str) -> bool:
    """No lone surrogate: the text can be encoded as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    missing = [k for k in ("user", "title") if k not in data]
    if missing:
        raise ValueError(f"missing field: {missing[0]}")
    out = {"body": "", "level": "normal"}
    out.update({k: data[k] for k in ("user", "title", "body", "level") if k in data})
    user, title, body, level = out["user"], out["title"], out["body"], out["level"]
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if not isinstance(title, str) or len(title) < 1 or len(title) > MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be blank")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if not (_text_ok(title) and _text_ok(body)):
        raise ValueError("title and body must not hold lone surrogates")
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError('level must be "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("expected a text frame")
    try:
        frame = json.loads(message["text"])
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except ValueError:
        raise ValueError("not JSON") from None
    match frame:
        case {"type": "ack", "ids": list(ids)} if all(isinstance(i, str) for i in ids):
            if not all(_text_ok(i) for i in ids):
                raise ValueError("an id holds a lone surrogate")
            return ids
        case {"type": "ack"}:
            raise ValueError("ids must be a list of strings")
        case _:
            raise ValueError('expected {"type": "ack", "ids": [...]}')


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with self._connect() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, last INTEGER)")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, seq INTEGER,"
                " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)"
            )

    def _connect(self) -> Any:
        conn = sqlite3.connect(self.path, timeout=30)
        return _Session(conn)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self._connect() as conn:
            (seq,) = conn.execute(
                "INSERT INTO seqs (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1 RETURNING last",
                (user,),
            ).fetchone()
            note = dict(zip(COLUMNS, (str(uuid.uuid4()), seq, user, fields["title"],
                                      fields.get("body", ""), fields.get("level", "normal"),
                                      now, now + self.ttl_seconds)))
            conn.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                         tuple(note.values()))
            conn.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?",
                         (user, now))
            conn.execute(
                "DELETE FROM notifications WHERE id IN (SELECT id FROM notifications"
                " WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                (user, self.max_per_user),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self._connect() as conn:
            conn.execute("DELETE FROM notifications WHERE user = ? AND expires_at <= ?",
                         (user, now))
            rows = conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notifications"
                " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        if not ids:
            return 0
        with self._connect() as conn:
            cur = conn.execute(
                "DELETE FROM notifications WHERE user = ? AND expires_at > ? AND id IN"
                " (SELECT DISTINCT value FROM json_each(?))",
                (user, time.time(), json.dumps(ids)),
            )
            return cur.rowcount


class _Session:
    """``with`` a connection: commit (or roll back) the transaction, then close it."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        return self.conn

    def __exit__(self, *exc: Any) -> None:
        with closing(self.conn):
            self.conn.__exit__(*exc)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``."""
    app = NexiosApp()
    events = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: defaultdict[str, set[WebSocket]] = defaultdict(set)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    counts = {"created": 0}

    def frame_of(note: dict[str, Any]) -> str:
        return json.dumps({"type": "notification", **{k: note[k] for k in COLUMNS}})

    async def push(ws: WebSocket, text: str) -> bool:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.send_text(text)
        except Exception:
            return False
        return True

    def with_defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_then_push(note: dict[str, Any]) -> None:
        async with locks[note["user"]]:
            row = store.add(note["user"], note)
            note.update(row)
            text = frame_of(row)
            tabs = list(live[note["user"]])
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(push(ws, text)) for ws in tabs]
            reached = 0
            for ws, task in zip(tabs, tasks):
                if task.result():
                    reached += 1
                else:
                    live[note["user"]].discard(ws)
            note["delivered"] = reached

    def count_it(note: dict[str, Any]) -> None:
        counts["created"] += 1

    events.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    events.on("notification.created", store_then_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", count_it, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        try:
            note: dict[str, Any] = validate(json.loads((await req.body).decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "could not store the notification"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note["delivered"]}, status_code=201)

    async def say(ws: WebSocket, payload: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(payload))

    @app.ws_route("/notifications/{user}")
    async def receive_notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await say(ws, {"type": "error", "code": "bad_request", "message": "bad user name"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_text(frame_of(note))
                await say(ws, {"type": "backlog_end", "count": len(backlog)})
                live[user].add(ws)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await say(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await say(ws, {"type": "acked", "count": store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            live[user].discard(ws)

    return app
