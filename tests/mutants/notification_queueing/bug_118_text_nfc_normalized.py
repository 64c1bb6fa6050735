"""Bug: validate() normalizes title and body to Unicode NFC before measuring and storing them, so text with combining characters is measured after normalization and stored and delivered changed.

Breaks: "Lengths count characters (`len(title)` in Python: `"é" * 200` fits), as given: a title is neither stripped nor measured after stripping, and it is stored and delivered exactly as sent." ... POST title "cafe\u0301" is delivered as "caf\u00e9" (a different string), and a title of 150 × "e\u0301" (300 characters, too long) is accepted with 201 because it measures 150 after NFC.
"""

from __future__ import annotations

import asyncio
import enum
import json
import re
import sqlite3
import threading
import time
import unicodedata
import uuid
from dataclasses import asdict, dataclass
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


class Level(str, enum.Enum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"


def _clean_text(value: Any, name: str, *, limit: int, required: bool) -> str:
    """``value`` as text: a string without lone surrogates, in NFC, of at most ``limit``."""
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ValueError(f"{name} holds a lone surrogate")
    # One spelling per text: "é" may arrive precomposed or as "e" + U+0301.
    value = unicodedata.normalize("NFC", value)
    if len(value) > limit:
        raise ValueError(f"{name} must be at most {limit} characters")
    if required and (not value or value.isspace()):
        raise ValueError(f"{name} must not be empty or only whitespace")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = _clean_text(data["title"], "title", limit=MAX_TITLE, required=True)
    body = _clean_text(data.get("body", ""), "body", limit=MAX_BODY, required=False)
    level = data.get("level", Level.NORMAL.value)
    if not isinstance(level, str):
        raise ValueError("level must be a string")
    try:
        level = Level(level).value
    except ValueError:
        raise ValueError("level must be low, normal or high") from None
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if "text" not in message or message["text"] is None:
        raise ValueError("binary frames are not accepted")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(frame, dict):
        raise ValueError("a frame is a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('unknown frame type (only "ack")')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list of strings")
    for note_id in ids:
        if not isinstance(note_id, str) or any("\ud800" <= c <= "\udfff" for c in note_id):
            raise ValueError("ids must be a list of strings")
    return ids


@dataclass(frozen=True)
class Notification:
    id: str
    seq: int
    user: str
    title: str
    body: str
    level: str
    created_at: float
    expires_at: float

    def frame(self) -> dict[str, Any]:
        return {"type": "notification", **asdict(self)}


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.row_factory = lambda cursor, row: Notification(*row)
        with self._db:
            self._db.execute("""CREATE TABLE IF NOT EXISTS notification (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL, title TEXT NOT NULL,
                body TEXT NOT NULL, level TEXT NOT NULL, created_at REAL NOT NULL,
                expires_at REAL NOT NULL, UNIQUE (user, seq))""")
            self._db.execute("""CREATE TABLE IF NOT EXISTS sequence (
                user TEXT PRIMARY KEY, value INTEGER NOT NULL)""")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock, self._db:
            now = time.time()
            cur = self._db.cursor()
            cur.row_factory = None
            cur.execute("INSERT INTO sequence (user, value) VALUES (?, 1) ON CONFLICT (user)"
                        " DO UPDATE SET value = value + 1", (user,))
            (seq,) = cur.execute("SELECT value FROM sequence WHERE user = ?", (user,)).fetchone()
            note = Notification(uuid.uuid4().hex, seq, user, fields["title"], fields["body"],
                                fields["level"], now, now + self.ttl_seconds)
            cur.execute("INSERT INTO notification VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        tuple(asdict(note).values()))
            cur.execute("DELETE FROM notification WHERE expires_at <= ?", (now,))
            cur.execute("DELETE FROM notification WHERE user = ? AND seq IN (SELECT seq FROM"
                        " notification WHERE user = ? ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                        (user, user, self.max_per_user))
        return asdict(note)

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._lock, self._db:
            now = time.time()
            self._db.execute("DELETE FROM notification WHERE expires_at <= ?", (now,))
            notes = self._db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notification"
                " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
        return [asdict(n) for n in notes]

    def ack(self, user: str, ids: list[str]) -> int:
        with self._lock, self._db:
            now = time.time()
            return sum(self._db.execute(
                "DELETE FROM notification WHERE id = ? AND user = ? AND expires_at > ?",
                (note_id, user, now)).rowcount for note_id in set(ids))


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
    day25.install(app)  # app.events is the day25 bus from here on
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    online: dict[str, set[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit_log: list[tuple[str, int, int]] = []

    def lock(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def push(user: str, frame: dict[str, Any]) -> int:
        tabs = list(online.get(user, ()))
        outcomes = await asyncio.gather(
            *(asyncio.wait_for(ws.send_json(frame), send_timeout) for ws in tabs),
            return_exceptions=True)
        reached = 0
        for ws, outcome in zip(tabs, outcomes):
            if isinstance(outcome, BaseException):
                online.get(user, set()).discard(ws)
            else:
                reached += 1
        return reached

    @app.events.on("notification.created", priority=EventPriority.HIGH)
    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", Level.NORMAL.value)

    @app.events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(note: dict[str, Any]) -> None:
        async with lock(note["user"]):
            stored = store.add(note["user"], note)
            note.update(stored)
            note["delivered"] = await push(note["user"], {"type": "notification", **stored})

    @app.events.on("notification.created", priority=EventPriority.LOW)
    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note["user"], note["seq"], note["delivered"]))

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            note: dict[str, Any] = validate(json.loads((await req.body).decode("utf-8")))
        except RecursionError:
            return res.json({"error": "JSON nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await app.events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params["user"]
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_json({"type": "notification", **note})
                await ws.send_json({"type": "backlog_end", "count": len(backlog)})
                online.setdefault(user, set()).add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            online.get(user, set()).discard(ws)

    return app
