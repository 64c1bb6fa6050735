"""Bug: the bad-user error frame carries its text under "error" (as ws.error does) instead of "message".

Breaks: "a bad user name gets {"type": "error", "code": "bad_request", "message": ...} and
close code 4400".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from typing import Any

from day25 import EventPriority, install
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

DEFAULTS = {"body": "", "level": "normal"}


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification, or ValueError (see the exercise text)."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    out: dict[str, str] = {}
    for field in ("user", "title", "body", "level"):
        if field not in data:
            if field in DEFAULTS:
                out[field] = DEFAULTS[field]
                continue
            raise ValueError(f"{field} is missing")
        value = data[field]
        if not isinstance(value, str):
            raise ValueError(f"{field} must be a string")
        out[field] = value
    if not NAME.fullmatch(out["user"]):
        raise ValueError("user must be 1-32 of A-Z a-z 0-9 _ . -")
    title = out["title"]
    if len(title) > MAX_TITLE or not title.strip():
        raise ValueError("title must be 1-200 characters, not only whitespace")
    if len(out["body"]) > MAX_BODY:
        raise ValueError("body is longer than 2000 characters")
    if _has_surrogate(title) or _has_surrogate(out["body"]):
        raise ValueError("title or body holds a lone surrogate")
    if out["level"] not in LEVELS:
        raise ValueError("level must be exactly low, normal or high")
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError and nothing else."""
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("binary frames are not accepted")
        frame = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    except Exception:
        raise ValueError("not a text frame") from None
    if type(frame) is not dict or frame.get("type") != "ack" or type(frame["type"]) is not str:
        raise ValueError('expected an object with "type": "ack"')
    ids = frame.get("ids")
    if type(ids) is not list or not all(type(i) is str and not _has_surrogate(i) for i in ids):
        raise ValueError("ids must be a list of strings")
    return ids


class Store:
    """The offline queue in SQLite at ``path``."""

    FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        self.conn.executescript(
            """
            CREATE TABLE IF NOT EXISTS queue (
                id TEXT PRIMARY KEY, seq INTEGER, user TEXT, title TEXT, body TEXT,
                level TEXT, created_at REAL, expires_at REAL);
            CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq);
            CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER);
            """
        )
        self.conn.commit()

    def _purge(self, now: float) -> None:
        self.conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        now = time.time()
        with self.conn:
            row = self.conn.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row["last"] if row else 0) + 1
            self.conn.execute("INSERT OR REPLACE INTO counters (user, last) VALUES (?, ?)", (user, seq))
            note = {
                "id": str(uuid.uuid4()), "seq": seq, "user": user,
                "title": fields["title"], "body": fields.get("body", ""),
                "level": fields.get("level", "normal"),
                "created_at": now, "expires_at": now + self.ttl,
            }
            self.conn.execute(
                "INSERT INTO queue VALUES (:id, :seq, :user, :title, :body, :level,"
                " :created_at, :expires_at)", note)
            self._purge(now)
            keep = [r["seq"] for r in self.conn.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?", (user, self.cap))]
            if keep:
                self.conn.execute(
                    "DELETE FROM queue WHERE user = ? AND seq < ?", (user, min(keep)))
            else:
                self.conn.execute("DELETE FROM queue WHERE user = ?", (user,))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self._purge(now)
        rows = self.conn.execute(
            "SELECT * FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now))
        return [{k: r[k] for k in self.FIELDS} for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with self.conn:
            cur = self.conn.executemany(
                "DELETE FROM queue WHERE user = ? AND id = ? AND expires_at > ?",
                [(user, i, now) for i in dict.fromkeys(ids)])
        return max(cur.rowcount, 0)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The app: POST /notifications and the /notifications/{user} WebSocket."""
    app = NexiosApp()
    bus = install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, set[WebSocket]] = defaultdict(set)
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    counts = {"created": 0}

    async def send_one(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
            return True
        except Exception:
            return False

    async def push(user: str, note: dict[str, Any]) -> int:
        tabs = list(live[user])
        text = json.dumps({"type": "notification", **note})
        results = await asyncio.gather(*(send_one(ws, text) for ws in tabs))
        for ws, ok in zip(tabs, results):
            if not ok:
                live[user].discard(ws)
        return sum(results)

    @bus.on("notification.created", priority=EventPriority.HIGH)
    def check(payload: dict[str, Any]) -> None:
        try:
            clean = validate(payload)
        except ValueError as exc:
            payload["rejected"] = str(exc)  # MEDIUM and LOW skip it; the route answers 422
            return
        for key in list(payload):
            if key not in clean:
                del payload[key]
        payload.update(clean)

    @bus.on("notification.created", priority=EventPriority.MEDIUM)
    async def deliver(payload: dict[str, Any]) -> None:
        if "rejected" in payload:
            return
        user = payload["user"]
        async with locks[user]:
            note = store.add(user, payload)
            payload["id"], payload["seq"] = note["id"], note["seq"]
            payload["delivered"] = await push(user, note)

    @bus.on("notification.created", priority=EventPriority.LOW)
    def audit(payload: dict[str, Any]) -> None:
        if "rejected" not in payload:
            counts["created"] += 1

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8", errors="strict"))
        except RecursionError:
            return res.json({"error": "JSON nested too deep"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": f"invalid JSON: {exc}"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        payload: dict[str, Any] = data
        await bus.emit("notification.created", payload)
        if "rejected" in payload or "id" not in payload:
            return res.json({"error": str(payload.get("rejected", "not stored"))}, status_code=422)
        return res.json({"id": payload["id"], "seq": payload["seq"],
                         "delivered": payload["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def socket(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "error": "user must be 1-32 of A-Z a-z 0-9 _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                notes = store.pending(user)
                for note in notes:
                    await ws.send_text(json.dumps({"type": "notification", **note}))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(notes)}))
                live[user].add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_text(json.dumps({"type": "acked", "count": store.ack(user, ids)}))
        except Exception:
            return  # the client went away: a normal end, not an error
        finally:
            live[user].discard(ws)

    return app
