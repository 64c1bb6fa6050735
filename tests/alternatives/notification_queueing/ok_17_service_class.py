"""Correct solution, style: one NotificationService class whose bound methods are the listeners and routes.

The service object owns the Store, the live tabs (a dict of user to set of sockets)
and one asyncio.Lock per user. Validation happens in the route before the emit;
the HIGH listener fills defaults, the MEDIUM one stores (committed) and then pushes
to every live tab concurrently with a per-tab timeout, the LOW one counts. The
WebSocket route sends the backlog and joins the live tabs under the user's lock, so
nothing is lost, doubled, or sent before backlog_end.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import Counter, defaultdict
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
SEND_TIMEOUT = 2.0


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with its defaults, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    if "title" not in data:
        raise ValueError("title is required")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if not title.strip():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be exactly low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError (and never anything else)."""
    try:
        if not isinstance(message, dict):
            raise ValueError("not a WebSocket message")
        text = message.get("text")
        if not isinstance(text, str):
            raise ValueError("binary frames are not accepted")
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
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return list(ids)
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - parse_ack raises only ValueError
        raise ValueError(f"malformed frame ({type(exc).__name__})") from None


COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")


class Store:
    """The offline queue in SQLite."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = float(ttl_seconds)
        self.cap = int(max_per_user)
        self.db = sqlite3.connect(path, check_same_thread=False)
        with self.db:
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY, seq INTEGER,"
                " user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)"
            )
            self.db.execute(
                "CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)"
            )

    def _purge(self, now: float) -> None:
        self.db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        note_id = uuid.uuid4().hex
        with self.db:
            self.db.execute(
                "INSERT INTO last_seq (user, seq) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET seq = seq + 1",
                (user,),
            )
            (seq,) = self.db.execute("SELECT seq FROM last_seq WHERE user = ?", (user,)).fetchone()
            note = {
                "id": note_id, "seq": seq, "user": user, "title": fields["title"],
                "body": fields["body"], "level": fields["level"],
                "created_at": now, "expires_at": now + self.ttl,
            }
            self.db.execute(
                "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                tuple(note[c] for c in COLUMNS),
            )
            self._purge(now)
            self.db.execute(
                "DELETE FROM notifications WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.cap),
            )
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.db:
            self._purge(now)
        rows = self.db.execute(
            f"SELECT {', '.join(COLUMNS)} FROM notifications"
            " WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now),
        ).fetchall()
        return [dict(zip(COLUMNS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        count = 0
        with self.db:
            for note_id in set(ids):
                cur = self.db.execute(
                    "DELETE FROM notifications WHERE user = ? AND id = ? AND expires_at > ?",
                    (user, note_id, now),
                )
                count += cur.rowcount
        return count


class NotificationService:
    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.app = app
        self.events = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, set[WebSocket]] = defaultdict(set)
        self.locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.audit = Counter()
        self.events.on("notification.created", self.enrich, priority=EventPriority.HIGH)
        self.events.on("notification.created", self.store_and_push, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self.count, priority=EventPriority.LOW)
        app.post("/notifications")(self.create)
        app.ws_route("/notifications/{user}")(self.socket)

    def enrich(self, note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def _send(self, ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), self.send_timeout)
            return True
        except Exception:  # noqa: BLE001 - a failed or stalled tab is dead
            return False

    async def store_and_push(self, note: dict[str, Any]) -> None:
        user = note["user"]
        async with self.locks[user]:
            stored = self.store.add(user, note)
            text = json.dumps({"type": "notification", **stored})
            tabs = list(self.tabs[user])
            results = await asyncio.gather(*(self._send(ws, text) for ws in tabs))
            for ws, ok in zip(tabs, results):
                if not ok:
                    self.tabs[user].discard(ws)
        note.update(id=stored["id"], seq=stored["seq"], delivered=sum(results))

    def count(self, note: dict[str, Any]) -> None:
        self.audit[note["level"]] += 1

    async def create(self, req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
            note = validate(data)
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await self.events.emit("notification.created", note)
        if "id" not in note:
            error = result.errors[0] if result.errors else "not stored"
            return res.json({"error": str(error)}, status_code=500)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
            status_code=201,
        )

    async def socket(self, ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not NAME.fullmatch(user):
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "bad user name"}))
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with self.locks[user]:
                backlog = self.store.pending(user)
                for note in backlog:
                    await ws.send_text(json.dumps({"type": "notification", **note}))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
                self.tabs[user].add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = self.store.ack(user, ids)
                await ws.send_text(json.dumps({"type": "acked", "count": count}))
        except Exception:  # noqa: BLE001 - the client left (mid-backlog too): not an error
            return
        finally:
            self.tabs[user].discard(ws)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The app: POST /notifications and the /notifications/{user} WebSocket."""
    app = NexiosApp()
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    app.state["notifications"] = NotificationService(app, store, send_timeout)
    return app
