"""Bug: user names are checked with str.isalnum, which accepts any Unicode letter or digit (an accented e, a superscript two), not only A-Z, a-z and 0-9.

Breaks: "`user` | 1-32 characters of `[A-Za-z0-9_.-]`, nothing else".
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
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
SEND_TIMEOUT = 2.0


def _valid_user(user: Any) -> bool:
    if not isinstance(user, str) or not 1 <= len(user) <= 32:
        return False
    return all(ch.isalnum() or ch in "_.-" for ch in user)


def _lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def _text(data: dict[str, Any], key: str, *, low: int, high: int) -> str:
    value = data[key]
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    if not low <= len(value) <= high:
        raise ValueError(f"{key} must have {low}-{high} characters")
    if _lone_surrogate(value):
        raise ValueError(f"{key} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    if not _valid_user(data.get("user")):
        raise ValueError("user must be 1-32 characters of A-Z a-z 0-9 _ . -")
    if "title" not in data:
        raise ValueError("title is missing")
    title = _text(data, "title", low=1, high=MAX_TITLE)
    if title.strip() == "":
        raise ValueError("title is only whitespace")
    body = _text(data, "body", low=0, high=MAX_BODY) if "body" in data else ""
    level = data.get("level", "normal")
    if not (isinstance(level, str) and level in LEVELS):
        raise ValueError("level must be low, normal or high")
    return {"user": data["user"], "title": title, "body": body, "level": level}


def _load_frame(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None


def parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text") if isinstance(message, dict) else None
    if not isinstance(text, str):
        raise ValueError("only text frames are accepted")
    frame = _load_frame(text)
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('the frame must be {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    for note_id in ids:
        if not isinstance(note_id, str) or _lone_surrogate(note_id):
            raise ValueError("every id must be a string")
    return ids


# -- the store ---------------------------------------------------------------------------

def _connect(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, user TEXT, seq INTEGER,"
               " title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)")
    db.execute("CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, n INTEGER)")
    return db


def _row_to_note(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
    return dict(zip(keys, row))


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self._db = _connect(path)
        self._guard = threading.Lock()
        self._ttl = ttl_seconds
        self._cap = max_per_user

    def _transaction(self, work: Any) -> Any:
        with self._guard:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        def work(db: sqlite3.Connection) -> dict[str, Any]:
            now = time.time()
            db.execute("INSERT INTO seqs VALUES (?, 0) ON CONFLICT (user) DO NOTHING", (user,))
            db.execute("UPDATE seqs SET n = n + 1 WHERE user = ?", (user,))
            (seq,) = db.execute("SELECT n FROM seqs WHERE user = ?", (user,)).fetchone()
            note = {"id": secrets.token_urlsafe(12), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": now, "expires_at": now + self._ttl}
            db.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (note["id"], user, seq, note["title"], note["body"], note["level"],
                        note["created_at"], note["expires_at"]))
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            keep = [r[0] for r in db.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?", (user, self._cap))]
            if keep:
                db.execute("DELETE FROM queue WHERE user = ? AND seq < ?", (user, min(keep)))
            return note

        return self._transaction(work)

    def pending(self, user: str) -> list[dict[str, Any]]:
        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            now = time.time()
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT id, seq, user, title, body, level, created_at, expires_at"
                              " FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq",
                              (user, now)).fetchall()
            return [_row_to_note(r) for r in rows]

        return self._transaction(work)

    def ack(self, user: str, ids: list[str]) -> int:
        def work(db: sqlite3.Connection) -> int:
            now = time.time()
            removed = 0
            for note_id in sorted(set(ids)):
                removed += db.execute("DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                                      (note_id, user, now)).rowcount
            return removed

        return self._transaction(work)


# -- the app -----------------------------------------------------------------------------

@dataclass(eq=False)
class Tab:
    ws: WebSocket
    user: str


@dataclass
class State:
    store: Store
    send_timeout: float
    tabs: dict[str, list[Tab]] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    created: int = 0

    def lock(self, user: str) -> asyncio.Lock:
        if user not in self.locks:
            self.locks[user] = asyncio.Lock()
        return self.locks[user]


def note_frame(note: dict[str, Any]) -> dict[str, Any]:
    return {"type": "notification", "id": note["id"], "seq": note["seq"], "user": note["user"],
            "title": note["title"], "body": note["body"], "level": note["level"],
            "created_at": note["created_at"], "expires_at": note["expires_at"]}


async def push_one(state: State, tab: Tab, frame: dict[str, Any]) -> int:
    try:
        await asyncio.wait_for(tab.ws.send_json(frame), timeout=state.send_timeout)
        return 1
    except Exception:
        drop_tab(state, tab)
        return 0


def drop_tab(state: State, tab: Tab) -> None:
    tabs = state.tabs.get(tab.user, [])
    if tab in tabs:
        tabs.remove(tab)


async def send_backlog(state: State, tab: Tab) -> None:
    async with state.lock(tab.user):
        notes = state.store.pending(tab.user)
        for note in notes:
            await asyncio.wait_for(tab.ws.send_json(note_frame(note)), state.send_timeout)
        await asyncio.wait_for(tab.ws.send_json({"type": "backlog_end", "count": len(notes)}),
                               state.send_timeout)
        state.tabs.setdefault(tab.user, []).append(tab)


async def read_acks(state: State, tab: Tab, events: Any) -> None:
    while True:
        message = await tab.ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        try:
            ids = parse_ack(message)
        except ValueError as exc:
            await tab.ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
            await events.emit("ws.error", {"user": tab.user, "error": str(exc)})
        else:
            await tab.ws.send_json({"type": "acked", "count": state.store.ack(tab.user, ids)})


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    state = State(Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), send_timeout)

    def defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        async with state.lock(note["user"]):
            note.update(state.store.add(note["user"], note))
            frame = note_frame(note)
            live = list(state.tabs.get(note["user"], []))
            note["delivered"] = sum(await asyncio.gather(*(push_one(state, t, frame) for t in live)))

    def audit(note: dict[str, Any]) -> None:
        state.created += 1

    events.on("notification.created", defaults, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    async def read_body(req: Any) -> Any:
        raw: bytes = await req.body
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ValueError(f"the body is not UTF-8 JSON: {type(exc).__name__}") from None

    @app.post("/notifications")
    async def create(req, res):
        try:
            note = validate(await read_body(req))
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def subscribe(ws: WebSocket):
        await ws.accept()
        user = ws.path_params["user"]
        if not _valid_user(user):
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "user must be 1-32 characters of A-Z a-z 0-9 _ . -"})
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        tab = Tab(ws, user)
        try:
            await send_backlog(state, tab)
            await read_acks(state, tab, events)
        except (WebSocketDisconnect, OSError, TimeoutError, RuntimeError):
            pass
        finally:
            drop_tab(state, tab)

    return app
