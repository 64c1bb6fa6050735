"""Bug: Store.ack builds one `id = ? OR id = ? OR ...` condition for the whole list, which SQLite refuses once the list holds about a thousand ids.

Breaks: "The client sends `{"type": "ack", "ids": [ID, ...]}`; the server answers that tab (not the user's other tabs) `{"type": "acked", "count": N}`" ... with `max_per_user=2000`, a client that acks its backlog of 1,000 notifications in one frame gets no `acked`: SQLite raises "Expression tree is too large", the handler dies and the tab is closed (1011) with a traceback, and nothing is acknowledged.
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


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("a notification must be a JSON object")
    if "user" not in data:
        raise ValueError("user is required")
    user = data["user"]
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of [A-Za-z0-9_.-]")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be text of 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if _lone_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"body must be text of at most {MAX_BODY} characters")
    if _lone_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of 'low', 'normal', 'high'")
    return {"user": user, "title": title, "body": body, "level": level}


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
        wanted = list(dict.fromkeys(ids))  # an id given twice counts once
        if not wanted:
            return 0
        match_any = " OR ".join(["id = ?"] * len(wanted))
        with self.db:
            cur = self.db.execute(
                f"DELETE FROM notes WHERE user = ? AND expires_at > ? AND ({match_any})",
                (user, time.time(), *wanted),
            )
        return cur.rowcount


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
