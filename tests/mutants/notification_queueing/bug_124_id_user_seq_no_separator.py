"""Bug: the id is uuid5 of the user name and the seq glued together without a separator, so ("ann1", seq 1) and ("ann", seq 11) get the same id.

Breaks: "`ID` is a unique string" and "**Ids and order:** ids are unique" (and "Never a 500") ... user "ann1" has notification 1 pending; ann's 11th POST then makes the same id, the insert hits the id's PRIMARY KEY and the POST answers 500, again on every retry until ann1 acknowledges hers.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from contextlib import closing
from dataclasses import asdict, dataclass, field
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


class Invalid(ValueError):
    """A notification or a frame that is refused."""


def _is_text(value: Any) -> bool:
    """A str without lone surrogates (those could never be sent as UTF-8)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise Invalid("expected a JSON object")
    missing = [name for name in ("user", "title") if name not in data]
    if missing:
        raise Invalid(f"missing field: {missing[0]}")
    user, title = data["user"], data["title"]
    body = data.get("body", "")
    level = data.get("level", "normal")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise Invalid("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if not _is_text(title) or not 0 < len(title) <= MAX_TITLE or title.isspace():
        raise Invalid(f"title must be text of 1-{MAX_TITLE} characters, not only whitespace")
    if not _is_text(body) or len(body) > MAX_BODY:
        raise Invalid(f"body must be text of at most {MAX_BODY} characters")
    if not isinstance(level, str) or level not in LEVELS:
        raise Invalid("level must be exactly low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    text = message.get("text")
    if text is None:
        raise Invalid("binary frame")
    try:
        frame = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise Invalid(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise Invalid('expected {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(_is_text(i) for i in ids):
        raise Invalid("ids must be a list of strings")
    return ids


def note_id(user: str, seq: int) -> str:
    """A stable id: the same (user, seq) always gets the same one, even if an insert is retried."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{user}{seq}"))


@dataclass
class Note:
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


SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL, title TEXT NOT NULL,
    body TEXT NOT NULL, level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notes_by_user ON notes (user, seq);
CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with closing(self._connect()) as db:
            db.executescript(SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # autocommit mode: every transaction below is an explicit BEGIN ... COMMIT
        return sqlite3.connect(self.path, timeout=30, isolation_level=None)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        return asdict(self.add_note(user, fields))

    def add_note(self, user: str, fields: dict[str, str]) -> Note:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")  # the counter is read and written by one writer
            try:
                row = db.execute("SELECT last FROM seqs WHERE user = ?", (user,)).fetchone()
                seq = (row[0] if row else 0) + 1
                db.execute("INSERT OR REPLACE INTO seqs (user, last) VALUES (?, ?)", (user, seq))
                now = time.time()
                note = Note(note_id(user, seq), seq, user, fields["title"], fields.get("body", ""),
                            fields.get("level", "normal"), now, now + self.ttl_seconds)
                db.execute("INSERT INTO notes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           tuple(asdict(note).values()))
                db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
                db.execute(
                    "DELETE FROM notes WHERE id IN (SELECT id FROM notes WHERE user = ?"
                    " ORDER BY seq DESC LIMIT -1 OFFSET ?)",
                    (user, max(self.max_per_user, 0)),
                )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return note

    def snapshot(self, user: str) -> tuple[list[Note], int]:
        """The pending notes, and the last seq handed out to ``user`` when they were read."""
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                now = time.time()
                db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
                rows = db.execute(
                    "SELECT id, seq, user, title, body, level, created_at, expires_at FROM notes"
                    " WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)).fetchall()
                row = db.execute("SELECT last FROM seqs WHERE user = ?", (user,)).fetchone()
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return [Note(*r) for r in rows], (row[0] if row else 0)

    def pending(self, user: str) -> list[dict[str, Any]]:
        return [asdict(note) for note in self.snapshot(user)[0]]

    def ack(self, user: str, ids: list[str]) -> int:
        with closing(self._connect()) as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                now, count = time.time(), 0
                for note_id in set(ids):
                    count += db.execute(
                        "DELETE FROM notes WHERE id = ? AND user = ? AND expires_at > ?",
                        (note_id, user, now)).rowcount
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return count


@dataclass(eq=False)
class Tab:
    ws: WebSocket
    seen: int = 0  # the last seq this tab's backlog covered
    alive: bool = True


@dataclass
class Live:
    """Every user's joined tabs and one lock per user."""

    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def drop(self, user: str, tab: Tab) -> None:
        tab.alive = False
        if tab in self.tabs.get(user, []):
            self.tabs[user].remove(tab)


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
    live = Live()
    stats = {"created": 0}

    async def send(tab: Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            return False
        return True

    @events.on("notification.created", priority=EventPriority.HIGH)
    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_then_push(note: dict[str, Any]) -> None:
        user = note["user"]
        stored = await asyncio.to_thread(store.add_note, user, note)  # committed before the push
        note.update(asdict(stored))
        async with live.lock(user):
            # a tab whose backlog already covered this seq got it there: not pushed, not counted
            targets = [tab for tab in live.tabs.get(user, []) if tab.seen < stored.seq]
            results = await asyncio.gather(*(send(tab, stored.frame()) for tab in targets))
            for tab, ok in zip(targets, results):
                if not ok:
                    live.drop(user, tab)
        note["delivered"] = sum(results)

    @events.on("notification.created", priority=EventPriority.LOW)
    def audit(note: dict[str, Any]) -> None:
        stats["created"] += 1

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            payload = json.loads(await req.body)
            note: dict[str, Any] = validate(payload)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": f"bad user name: {user!r}"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        tab = Tab(ws)
        try:
            async with live.lock(user):
                backlog, tab.seen = await asyncio.to_thread(store.snapshot, user)
                for note in backlog:
                    if not await send(tab, note.frame()):
                        return
                if not await send(tab, {"type": "backlog_end", "count": len(backlog)}):
                    return
                live.tabs.setdefault(user, []).append(tab)
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = await asyncio.to_thread(store.ack, user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            live.drop(user, tab)

    return app
