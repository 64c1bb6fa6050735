"""Bug: an empty user name is accepted (the pattern uses a star instead of 1-32, and only the upper bound is checked).

Breaks: "`user` | 1-32 characters of `[A-Za-z0-9_.-]`, nothing else" (so a POST with "user": "" must get 422 and store nothing).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
import sqlite3
import time
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
MISSING = object()
USER_CHARS = re.compile(r"[A-Za-z0-9_.-]*")


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with its defaults, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user", MISSING)
    if type(user) is not str or len(user) > 32 or USER_CHARS.fullmatch(user) is None:
        raise ValueError("bad user: at most 32 characters of letters, digits, _ . -")
    title = data.get("title", MISSING)
    if title is MISSING:
        raise ValueError("missing title")
    if type(title) is not str or len(title) < 1 or len(title) > MAX_TITLE or title.isspace():
        raise ValueError("bad title: text of 1-200 characters, not only whitespace")
    body = data.get("body", MISSING)
    if body is MISSING:
        body = ""
    if type(body) is not str or len(body) > MAX_BODY:
        raise ValueError("bad body: text of at most 2000 characters")
    if not (_is_text(title) and _is_text(body)):
        raise ValueError("title or body holds a lone surrogate")
    level = data.get("level", MISSING)
    if level is MISSING:
        level = "normal"
    if type(level) is not str or level not in LEVELS:
        raise ValueError("bad level: low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError only."""
    try:
        text = message.get("text") if isinstance(message, dict) else None
        if type(text) is not str:
            raise ValueError("expected a text frame")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("nesting too deep") from None
        except ValueError:
            raise ValueError("not JSON") from None
        if type(frame) is not dict or frame.get("type") != "ack" or type(frame.get("type")) is not str:
            raise ValueError('expected an object with "type": "ack"')
        ids = frame.get("ids", MISSING)
        if type(ids) is not list or any(type(i) is not str or not _is_text(i) for i in ids):
            raise ValueError("ids must be a list of strings")
        return ids[:]
    except ValueError:
        raise
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            raise
        raise ValueError("malformed frame") from None


@dataclasses.dataclass(frozen=True)
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
        return {"type": "notification", **dataclasses.asdict(self)}


FIELDS = tuple(f.name for f in dataclasses.fields(Notification))


class Store:
    """The offline queue in SQLite."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self._ttl = ttl_seconds
        self._max = max_per_user
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS note (
                id TEXT PRIMARY KEY, seq INTEGER NOT NULL, user TEXT NOT NULL,
                title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                created_at REAL NOT NULL, expires_at REAL NOT NULL);
            CREATE INDEX IF NOT EXISTS note_user_seq ON note (user, seq);
            CREATE TABLE IF NOT EXISTS counter (user TEXT PRIMARY KEY, last INTEGER NOT NULL);
            """
        )

    def _write(self, fn: Any) -> Any:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            result = fn()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        return result

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        def work() -> Notification:
            now = time.time()
            row = self._db.execute("SELECT last FROM counter WHERE user = ?", (user,)).fetchone()
            seq = (row["last"] if row else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO counter (user, last) VALUES (?, ?)", (user, seq))
            note = Notification(secrets.token_urlsafe(16), seq, user, fields["title"],
                                fields["body"], fields["level"], now, now + self._ttl)
            self._db.execute("INSERT INTO note VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             dataclasses.astuple(note))
            self._db.execute("DELETE FROM note WHERE user = ? AND expires_at <= ?", (user, now))
            keep = [r["id"] for r in self._db.execute(
                "SELECT id FROM note WHERE user = ? ORDER BY seq DESC LIMIT ?", (user, self._max))]
            marks = ",".join("?" * len(keep)) or "NULL"
            self._db.execute(f"DELETE FROM note WHERE user = ? AND id NOT IN ({marks})",
                             (user, *keep))
            return note

        return dataclasses.asdict(self._write(work))

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._write(lambda: self._db.execute("DELETE FROM note WHERE expires_at <= ?", (now,)))
        rows = self._db.execute(
            "SELECT * FROM note WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now))
        return [{k: r[k] for k in FIELDS} for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))

        def work() -> int:
            now = time.time()
            gone = 0
            for note_id in wanted:
                gone += self._db.execute(
                    "DELETE FROM note WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now)).rowcount
            return gone

        return self._write(work)


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
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    audit_log: list[tuple[str, str, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    def check(payload: dict[str, Any]) -> None:
        try:
            clean = validate(payload)
        except ValueError:
            payload["refused"] = True
            raise
        payload.clear()
        payload.update(clean)

    async def send_one(ws: WebSocket, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), send_timeout)
        except Exception:  # noqa: BLE001
            return False
        return True

    async def store_and_push(payload: dict[str, Any]) -> None:
        if payload.get("refused"):
            return
        user = payload["user"]
        async with lock_for(user):
            note = store.add(user, payload)
            text = json.dumps({"type": "notification", **note})
            tabs = list(live.get(user, ()))
            async with asyncio.TaskGroup() as tg:
                tasks = [tg.create_task(send_one(ws, text)) for ws in tabs]
            delivered = 0
            for ws, task in zip(tabs, tasks):
                if task.result():
                    delivered += 1
                elif ws in live.get(user, []):
                    live[user].remove(ws)
        payload["id"], payload["seq"], payload["delivered"] = note["id"], note["seq"], delivered

    def audit(payload: dict[str, Any]) -> None:
        if not payload.get("refused") and "id" in payload:
            audit_log.append((payload["user"], payload["id"], payload["delivered"]))

    events.on("notification.created", check, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8", errors="strict"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        payload: dict[str, Any] = dict(data)
        result = await events.emit("notification.created", payload)
        if payload.get("refused"):
            return res.json({"error": str(result.errors[0])}, status_code=422)
        if "id" not in payload:
            return res.json({"error": "could not store the notification"}, status_code=500)
        return res.json({k: payload[k] for k in ("id", "seq", "delivered")}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if NAME.fullmatch(user) is None:
            await ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": "bad user name"}))
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        joined = False
        try:
            async with lock_for(user):
                backlog = store.pending(user)
                for note in backlog:
                    await ws.send_text(json.dumps({"type": "notification", **note}))
                await ws.send_text(json.dumps({"type": "backlog_end", "count": len(backlog)}))
                live.setdefault(user, []).append(ws)
                joined = True
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    why = str(exc)
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": why}))
                    await events.emit("ws.error", {"user": user, "error": why})
                    continue
                await ws.send_text(json.dumps({"type": "acked", "count": store.ack(user, ids)}))
        except Exception:  # noqa: BLE001 - a client that leaves is not an error
            pass
        finally:
            if joined and ws in live.get(user, []):
                live[user].remove(ws)

    return app
