"""Style: one NotificationService class owns the store, the tabs and the locks; its bound methods are the listeners.

Correct because: validation happens only in the HIGH listener (the route answers 422 from
the emit's ValueError, so nothing is stored and no seq is used), the MEDIUM listener stores
(committed) and then pushes under a per-user asyncio lock, each tab gets its own
send_timeout, the backlog is sent under the same lock before the tab joins the live ones,
seq comes from a per-user counter table, and acks match both user and id on unexpired rows.
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
from nexios.websockets import WebSocket

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


class Refused(ValueError):
    """A notification that validate refused."""


def _text_ok(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _good_user(user: Any) -> bool:
    return isinstance(user, str) and NAME.fullmatch(user) is not None


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise Refused("a notification is a JSON object")
    if not _good_user(data.get("user")):
        raise Refused("user: 1-32 characters of letters, digits, _ . -")
    if "title" not in data:
        raise Refused("title is missing")
    title = data["title"]
    if not isinstance(title, str):
        raise Refused("title must be a string")
    if len(title) < 1 or len(title) > MAX_TITLE:
        raise Refused(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise Refused("title must not be only whitespace")
    if not _text_ok(title):
        raise Refused("title holds a lone surrogate")
    out = {"user": data["user"], "title": title, "body": "", "level": "normal"}
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str) or len(body) > MAX_BODY:
            raise Refused(f"body must be a string of at most {MAX_BODY} characters")
        if not _text_ok(body):
            raise Refused("body holds a lone surrogate")
        out["body"] = body
    if "level" in data:
        level = data["level"]
        if not isinstance(level, str) or level not in LEVELS:
            raise Refused("level must be low, normal or high")
        out["level"] = level
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        if message.get("bytes") is not None or not isinstance(message.get("text"), str):
            raise ValueError("binary frames are not accepted")
        try:
            frame = json.loads(message["text"])
        except RecursionError:
            raise ValueError("JSON nested too deep") from None
        if not isinstance(frame, dict):
            raise ValueError("a frame is a JSON object")
        if frame.get("type") != "ack":
            raise ValueError('type must be "ack"')
        ids = frame.get("ids")
        if not isinstance(ids, list):
            raise ValueError("ids must be a list")
        for item in ids:
            if not isinstance(item, str) or not _text_ok(item):
                raise ValueError("ids must be strings")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # whatever else: still only ValueError
        raise ValueError(f"bad frame ({type(exc).__name__})") from None


FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._mutex = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        with self._db:
            self._db.executescript(
                """
                CREATE TABLE IF NOT EXISTS queue (
                    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                    created_at REAL NOT NULL, expires_at REAL NOT NULL);
                CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq);
                CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
                """
            )

    def _purge(self, now: float) -> None:
        self._db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._mutex, self._db:
            row = self._db.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO counters (user, last) VALUES (?, ?)", (user, seq))
            created = time.time()
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user, "title": fields["title"],
                    "body": fields["body"], "level": fields["level"],
                    "created_at": created, "expires_at": created + self.ttl_seconds}
            self._db.execute(f"INSERT INTO queue ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})",
                             [note[f] for f in FIELDS])
            self._purge(created)
            keep = [r[0] for r in self._db.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?",
                (user, self.max_per_user))]
            if keep:
                self._db.execute("DELETE FROM queue WHERE user = ? AND seq < ?", (user, min(keep)))
            else:
                self._db.execute("DELETE FROM queue WHERE user = ?", (user,))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._mutex, self._db:
            now = time.time()
            self._purge(now)
            rows = self._db.execute(
                f"SELECT {', '.join(FIELDS)} FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [dict(zip(FIELDS, r)) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        with self._mutex, self._db:
            now = time.time()
            done = 0
            for note_id in wanted:
                done += self._db.execute(
                    "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now)).rowcount
            self._purge(now)
        return done


class NotificationService:
    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.events = app.events
        self.store = store
        self.send_timeout = send_timeout
        self.live: dict[str, list[WebSocket]] = defaultdict(list)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.audit_count = 0
        self.events.on("notification.created", self.check, priority=EventPriority.HIGH)
        self.events.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self.audit, priority=EventPriority.LOW)

    def check(self, note: dict[str, Any]) -> None:
        accepted = validate(note)
        note.clear()
        note.update(accepted)

    async def _send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
            return True
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            return False

    async def store_and_push(self, note: dict[str, Any]) -> None:
        try:
            fields = validate(note)  # check refused it already: store nothing
        except ValueError:
            return
        user = fields["user"]
        async with self.locks[user]:
            saved = self.store.add(user, fields)
            tabs = list(self.live[user])
            oks = await asyncio.gather(*(self._send(t, {"type": "notification", **saved}) for t in tabs))
            for tab, ok in zip(tabs, oks):
                if not ok and tab in self.live[user]:
                    self.live[user].remove(tab)
        note["id"], note["seq"], note["delivered"] = saved["id"], saved["seq"], sum(oks)

    def audit(self, note: dict[str, Any]) -> None:
        if "seq" in note:
            self.audit_count += 1

    async def create(self, req, res):
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "a notification is a JSON object"}, status_code=422)
        note: dict[str, Any] = data
        result = await self.events.emit("notification.created", note)
        refused = [e for e in result.errors if isinstance(e, Refused)]
        if refused:
            return res.json({"error": str(refused[0])}, status_code=422)
        if "seq" not in note:
            return res.json({"error": "not stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def connect(self, ws: WebSocket):
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not _good_user(user):
            await ws.send_json({"type": "error", "code": "bad_request", "message": "bad user name"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with self.locks[user]:
                backlog = self.store.pending(user)
                for note in backlog:
                    await ws.send_text(json.dumps({"type": "notification", **note}))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
                self.live[user].append(ws)
                joined = True
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": self.store.ack(user, ids)})
        except Exception:
            return  # the client went away
        finally:
            if joined and ws in self.live[user]:
                self.live[user].remove(ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    service = NotificationService(app, Store(db_path, ttl_seconds=ttl_seconds,
                                             max_per_user=max_per_user), send_timeout)
    app.post("/notifications")(service.create)
    app.ws_route("/notifications/{user}")(service.connect)
    app.service = service
    return app
