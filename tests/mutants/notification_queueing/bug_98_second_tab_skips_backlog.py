"""Bug: a second tab of a user who already has a live tab gets an empty backlog.

Breaks: "On connect the server sends every stored, unacknowledged, unexpired notification
of that user, in seq order" (the student assumed the open tab already had the backlog).
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
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _valid_user(user: Any) -> bool:
    return isinstance(user, str) and NAME.fullmatch(user) is not None


def validate(data: Any) -> dict[str, str]:
    """The accepted notification, or ValueError (see the exercise text)."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is required")
    user = data["user"]
    if not _valid_user(user):
        raise ValueError("user must be 1-32 characters of letters, digits, _ . -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if not _is_text(title):
        raise ValueError("title holds a lone surrogate")
    body = ""
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str):
            raise ValueError("body must be a string")
        if len(body) > MAX_BODY:
            raise ValueError(f"body must be at most {MAX_BODY} characters")
        if not _is_text(body):
            raise ValueError("body holds a lone surrogate")
    level = "normal"
    if "level" in data:
        level = data["level"]
        if not isinstance(level, str) or level not in LEVELS:
            raise ValueError("level must be low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError and nothing else."""
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("frames must be JSON text, not binary")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind != "ack":
        raise ValueError('the frame type must be "ack"')
    ids = data.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for item in ids:
        if not isinstance(item, str) or not _is_text(item):
            raise ValueError("ids must be strings")
    return list(ids)


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.db:
            self.db.execute(
                "INSERT INTO last_seq VALUES (?, 1) ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            note = {
                "id": uuid.uuid4().hex,
                "seq": seq,
                "user": user,
                "title": fields["title"],
                "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now,
                "expires_at": now + self.ttl_seconds,
            }
            self.db.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[c] for c in COLUMNS),
            )
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = self.db.execute(
                f"SELECT {', '.join(COLUMNS)} FROM notifications WHERE user = ? AND expires_at > ?"
                " ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self.db:
            for one in set(ids):
                cur = self.db.execute(
                    "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                    (user, one, now),
                )
                count += cur.rowcount
        return count


def _frame(note: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notification", **{c: note[c] for c in COLUMNS}}


class Hub:
    """The live tabs of every user, with one lock per user."""

    def __init__(self, store: Store, send_timeout: float) -> None:
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[WebSocket]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]

    def join(self, user: str, ws: WebSocket) -> None:
        self.tabs.setdefault(user, []).append(ws)

    def leave(self, user: str, ws: WebSocket) -> None:
        tabs = self.tabs.get(user, [])
        if ws in tabs:
            tabs.remove(ws)

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        text = json.dumps(frame)
        delivered = 0
        for ws in list(self.tabs.get(user, [])):
            try:
                await asyncio.wait_for(ws.send_text(text), self.send_timeout)
            except Exception:
                self.leave(user, ws)
            else:
                delivered += 1
        return delivered


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The app: POST /notifications and the /notifications/{user} WebSocket."""
    app = NexiosApp()
    events = day25.install(app)
    hub = Hub(Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout)
    audit_log: list[tuple[str, int, int]] = []

    def enrich(note: dict[str, Any]) -> None:
        try:
            note.update(validate(note))
        except ValueError:
            note["rejected"] = True
            raise

    async def store_and_push(note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        user = note["user"]
        async with hub.lock(user):
            stored = hub.store.add(user, note)
            note["id"], note["seq"] = stored["id"], stored["seq"]
            note["delivered"] = await hub.push(user, _frame(stored))

    def audit(note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        audit_log.append((note["user"], note.get("seq", 0), note.get("delivered", 0)))

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        try:
            note: dict[str, Any] = dict(validate(data))
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", note)
        if "id" not in note:
            errors = getattr(result, "errors", None) or ["could not store the notification"]
            return res.json({"error": str(errors[0])}, status_code=422)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]}, status_code=201
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not _valid_user(user):
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": "bad user name"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with hub.lock(user):
                # the user is online already: the other tab got the backlog, do not resend it
                backlog = [] if hub.tabs.get(user) else hub.store.pending(user)
                for note in backlog:
                    await ws.send_text(json.dumps(_frame(note)))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
                hub.join(user, ws)
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = hub.store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except Exception:
            pass  # the client left (mid-backlog or while we answered): not an error
        finally:
            hub.leave(user, ws)

    return app
