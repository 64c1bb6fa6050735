"""Bug: the bad_frame error is sent to every open tab of the user, not only to the connection that sent the bad frame.

Breaks: "A malformed frame ... gets exactly `{"type": "error", "code": "bad_frame",
"message": "<what was wrong>"}` on that connection only".
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


def _is_text(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("user: 1-32 characters of letters, digits, _ . -")
    title = data.get("title")
    if not _is_text(title):
        raise ValueError("title: required, a text")
    if len(title) == 0 or len(title) > MAX_TITLE:
        raise ValueError(f"title: 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title: not only whitespace")
    out = {"user": user, "title": title, "body": "", "level": "normal"}
    if "body" in data:
        body = data["body"]
        if not _is_text(body) or len(body) > MAX_BODY:
            raise ValueError(f"body: a text of at most {MAX_BODY} characters")
        out["body"] = body
    if "level" in data:
        if data["level"] not in LEVELS or not isinstance(data["level"], str):
            raise ValueError("level: low, normal or high")
        out["level"] = data["level"]
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        if message.get("text") is None:
            raise ValueError("binary frames are not accepted")
        frame = json.loads(message["text"])
        if type(frame) is not dict or frame.get("type") != "ack":
            raise ValueError('expected {"type": "ack", "ids": [...]}')
        ids = frame.get("ids")
        if type(ids) is not list or not all(_is_text(i) for i in ids):
            raise ValueError("ids: a list of strings")
        return ids
    except ValueError:
        raise
    except BaseException as exc:  # RecursionError and anything else odd
        if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            raise
        raise ValueError(f"unreadable frame ({type(exc).__name__})") from None


SCHEMA = """
CREATE TABLE IF NOT EXISTS notes (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    seq INTEGER NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    acked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""
FIELDS = "id, seq, user, title, body, level, created_at, expires_at"


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.mutex = threading.RLock()
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        with self.mutex:
            self.conn.executescript(SCHEMA)
            self.conn.commit()

    def _purge(self, now: float) -> None:
        self.conn.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        with self.mutex, self.conn:
            row = self.conn.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row["last"] if row else 0) + 1
            self.conn.execute("INSERT OR REPLACE INTO counters (user, last) VALUES (?, ?)", (user, seq))
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user,
                    "title": fields["title"], "body": fields["body"], "level": fields["level"],
                    "created_at": created, "expires_at": created + self.ttl_seconds}
            self.conn.execute(
                f"INSERT INTO notes ({FIELDS}) VALUES (:id, :seq, :user, :title, :body, :level,"
                " :created_at, :expires_at)", note)
            self._purge(created)
            self.conn.execute(
                "DELETE FROM notes WHERE user = ? AND acked = 0 AND seq NOT IN (SELECT seq FROM notes"
                " WHERE user = ? AND acked = 0 ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.mutex, self.conn:
            self._purge(now)
            rows = self.conn.execute(
                f"SELECT {FIELDS} FROM notes WHERE user = ? AND acked = 0 AND expires_at > ?"
                " ORDER BY seq", (user, now)).fetchall()
        return [dict(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        acked = 0
        with self.mutex, self.conn:
            for note_id in set(ids):
                acked += self.conn.execute(
                    "UPDATE notes SET acked = 1 WHERE id = ? AND user = ? AND acked = 0"
                    " AND expires_at > ?", (note_id, user, now)).rowcount
        return acked


class Hub:
    """Live tabs per user, and the routes' logic."""

    def __init__(self, store: Store, events: Any, send_timeout: float) -> None:
        self.store = store
        self.events = events
        self.send_timeout = send_timeout
        self.live: dict[str, list[WebSocket]] = defaultdict(list)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.audited = 0

    # -- notification.created listeners -------------------------------------------
    def check(self, note: dict[str, Any]) -> None:
        try:
            clean = validate(note)
        except ValueError:
            note["rejected"] = True
            raise
        note.clear()
        note.update(clean)

    async def deliver(self, note: dict[str, Any]) -> None:
        if note.get("rejected"):
            return
        user = note["user"]
        async with self.locks[user]:
            stored = self.store.add(user, note)
            note.update(stored)
            frame = {"type": "notification", **stored}
            tabs = list(self.live[user])
            oks = await asyncio.gather(*(self._push(user, ws, frame) for ws in tabs))
            note["delivered"] = oks.count(True)

    def audit(self, note: dict[str, Any]) -> None:
        if not note.get("rejected"):
            self.audited += 1

    async def _push(self, user: str, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
        except Exception:
            if ws in self.live[user]:
                self.live[user].remove(ws)
            return False
        return True

    async def tell_user(self, user: str, frame: dict[str, Any]) -> None:
        for ws in list(self.live[user]):
            try:
                await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
            except Exception:
                if ws in self.live[user]:
                    self.live[user].remove(ws)

    # -- the WebSocket -------------------------------------------------------------
    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            try:
                await ws.send_json({"type": "error", "code": "bad_request",
                                    "message": "bad user name"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            async with self.locks[user]:
                rows = self.store.pending(user)
                for frame in [{"type": "notification", **row} for row in rows] + [
                        {"type": "backlog_end", "count": len(rows)}]:
                    await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
                self.live[user].append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await self.tell_user(user, {"type": "error", "code": "bad_frame",
                                                "message": str(exc)})
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except (WebSocketDisconnect, OSError, RuntimeError, TimeoutError):
            return
        finally:
            if ws in self.live[user]:
                self.live[user].remove(ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    hub = Hub(Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user), events,
              send_timeout)
    events.on("notification.created", hub.check, priority=EventPriority.HIGH)
    events.on("notification.created", hub.deliver, priority=EventPriority.MEDIUM)
    events.on("notification.created", hub.audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req, res):
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": f"the body is not UTF-8 JSON ({type(exc).__name__})"},
                            status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note = dict(data)
        result = await events.emit("notification.created", note)
        if note.get("rejected"):
            return res.json({"error": str(result.errors[0]) if result.errors else "invalid"},
                            status_code=422)
        if "seq" not in note:
            return res.json({"error": "could not store the notification"}, status_code=503)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket):
        await hub.serve(ws)

    return app
