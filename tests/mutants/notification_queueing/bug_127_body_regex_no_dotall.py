"""Bug: the body is checked with `re.fullmatch(".{0,2000}", body)` without re.DOTALL, so any body holding a line break is refused.

Breaks: "`body` | text of at most 2000 characters | no | `""`" and "a title or body is stored and delivered exactly as sent" ... `{"user": "ann", "title": "Report", "body": "line one\nline two"}` gets 422 `{"error": "body must be text of at most 2000 characters"}` and is never stored, although it is 17 characters of text.
"""

from __future__ import annotations

import asyncio
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


def _lone_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


# field -> (required, default, rule, what is wrong); a rule takes the value, True if it is fine
TITLE_RE = re.compile(r".*\S.*", re.DOTALL)  # at least one character that is not whitespace
BODY_RE = re.compile(r".{0,%d}" % MAX_BODY)
RULES: dict[str, tuple[bool, str | None, Any, str]] = {
    "user": (True, None, lambda v: NAME.fullmatch(v) is not None,
             "user must be 1-32 characters of [A-Za-z0-9_.-]"),
    "title": (True, None, lambda v: len(v) <= MAX_TITLE and TITLE_RE.fullmatch(v) is not None,
              f"title must be 1-{MAX_TITLE} characters, not only whitespace"),
    "body": (False, "", lambda v: BODY_RE.fullmatch(v) is not None,
             f"body must be text of at most {MAX_BODY} characters"),
    "level": (False, "normal", lambda v: v in LEVELS,
              "level must be exactly 'low', 'normal' or 'high'"),
}


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification must be a JSON object")
    accepted: dict[str, str] = {}
    for field, (required, default, rule, problem) in RULES.items():
        if field not in data:
            if required:
                raise ValueError(f"{field} is required")
            accepted[field] = default  # type: ignore[assignment]
            continue
        value = data[field]
        if not isinstance(value, str) or not rule(value):
            raise ValueError(problem)
        if _lone_surrogate(value):
            raise ValueError(f"{field} holds a lone surrogate")
        accepted[field] = value
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("frames must be JSON text, not binary")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('a frame must be an object {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("ids must be a list of strings")
    if any(_lone_surrogate(i) for i in ids):
        raise ValueError("an id holds a lone surrogate")
    return ids


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL,"
                " UNIQUE (user, seq))"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO counters (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            note = {
                "id": uuid.uuid4().hex, "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl_seconds,
            }
            self.db.execute(
                f"INSERT INTO notes ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                [note[c] for c in COLUMNS],
            )
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.max_per_user, 0)),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            rows = self.db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notes WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self.db:
            for note_id in dict.fromkeys(ids):
                cur = self.db.execute(
                    "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                )
                count += cur.rowcount
        return count


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit = {"created": 0}

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    def drop(user: str, ws: WebSocket) -> None:
        live = tabs.get(user, [])
        if ws in live:
            live.remove(ws)

    async def send(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_for(user):
            stored = store.add(user, note)
            note.update(stored)
            live = list(tabs.get(user, ()))
            frame = {"type": "notification", **stored}
            results = await asyncio.gather(*(send(ws, frame) for ws in live))
            for ws, ok in zip(live, results):
                if not ok:
                    drop(user, ws)
            note["delivered"] = sum(results)

    def count(note: dict[str, Any]) -> None:
        audit["created"] += 1

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", count, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not valid UTF-8 JSON"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user name must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with lock_for(user):
                backlog = store.pending(user)
                for note in backlog:
                    if not await send(ws, {"type": "notification", **note}):
                        return
                if not await send(ws, {"type": "backlog_end", "count": len(backlog)}):
                    return
                tabs.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_text(json.dumps({"type": "acked", "count": store.ack(user, ids)}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            drop(user, ws)

    return app
