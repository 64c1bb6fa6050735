"""Bug: the hand-written user check uses a strict less-than 32, so a user name of exactly 32 characters is refused (422 on POST, 4400 on the WebSocket).

Breaks: "user | 1-32 characters of [A-Za-z0-9_.-], nothing else" (32 characters is allowed).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import Any

from nexios import NexiosApp

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
USER_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def good_user(user: Any) -> bool:
    """1-32 characters of [A-Za-z0-9_.-] and nothing else."""
    return isinstance(user, str) and 0 < len(user) < 32 and set(user) <= USER_CHARS
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not good_user(user):
        raise ValueError("user must be 1-32 characters of letters, digits, underscore, dot or dash")
    if "title" not in data:
        raise ValueError("title is missing")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if len(title) < 1 or len(title) > MAX_TITLE or title.strip() == "":
        raise ValueError("title must have 1-200 characters and not be only whitespace")
    if not _encodable(title):
        raise ValueError("title is not valid text")
    out = {"user": user, "title": title, "body": "", "level": "normal"}
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str) or len(body) > MAX_BODY:
            raise ValueError("body must be a string of at most 2000 characters")
        if not _encodable(body):
            raise ValueError("body is not valid text")
        out["body"] = body
    if "level" in data:
        level = data["level"]
        if not isinstance(level, str) or level not in LEVELS:
            raise ValueError("level must be one of low, normal, high")
        out["level"] = level
    return out


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str):
            raise ValueError("only text frames are accepted")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("frame too deeply nested") from None
        except ValueError:
            raise ValueError("frame is not valid JSON") from None
        if not isinstance(frame, dict) or frame.get("type") != "ack":
            raise ValueError('expected an object with type "ack"')
        ids = frame.get("ids")
        if not isinstance(ids, list):
            raise ValueError("ids must be a list")
        for item in ids:
            if not isinstance(item, str) or not _encodable(item):
                raise ValueError("every id must be a string")
        return ids
    except ValueError:
        raise
    except BaseException as exc:  # noqa: BLE001 - never anything but ValueError
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise ValueError("unreadable frame") from None


@dataclass
class Notification:
    id: str
    seq: int
    user: str
    title: str
    body: str
    level: str
    created_at: float
    expires_at: float


COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER, user TEXT,"
            " title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL)"
        )
        self.conn.execute("CREATE INDEX IF NOT EXISTS queue_user_seq ON queue (user, seq)")
        self.conn.execute("CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER)")

    def _tx(self, work: Any) -> Any:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")
        return result

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        def work() -> Notification:
            row = self.conn.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()
            seq = (row[0] if row else 0) + 1
            self.conn.execute(
                "INSERT INTO counters (user, last) VALUES (?, ?)"
                " ON CONFLICT (user) DO UPDATE SET last = excluded.last",
                (user, seq),
            )
            now = time.time()
            note = Notification(secrets.token_urlsafe(12), seq, user, fields["title"],
                                fields["body"], fields["level"], now, now + self.ttl_seconds)
            self.conn.execute(f"INSERT INTO queue ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              tuple(asdict(note).values()))
            self.conn.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            self.conn.execute(
                "DELETE FROM queue WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, self.max_per_user),
            )
            return note

        return asdict(self._tx(work))

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._tx(lambda: self.conn.execute(
            "DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now)))
        rows = self.conn.execute(
            f"SELECT {COLUMNS} FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now),
        ).fetchall()
        return [asdict(Notification(*row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        now = time.time()

        def work() -> int:
            gone = 0
            for note_id in wanted:
                gone += self.conn.execute(
                    "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                ).rowcount
            return gone

        return int(self._tx(work))


class Hub:
    """The live tabs of every user."""

    def __init__(self, send_timeout: float) -> None:
        self.send_timeout = send_timeout
        self.tabs: dict[str, set[Any]] = {}
        self.locks: dict[str, asyncio.Lock] = {}

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    def join(self, user: str, ws: Any) -> None:
        self.tabs.setdefault(user, set()).add(ws)

    def leave(self, user: str, ws: Any) -> None:
        self.tabs.get(user, set()).discard(ws)

    async def _send_one(self, user: str, ws: Any, text: str) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(text), self.send_timeout)
            return True
        except Exception:
            self.leave(user, ws)
            return False

    async def push(self, user: str, frame: dict[str, Any]) -> int:
        text = json.dumps(frame)
        targets = list(self.tabs.get(user, ()))
        results = await asyncio.gather(*(self._send_one(user, ws, text) for ws in targets))
        return sum(results)


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    hub = Hub(send_timeout)
    audit_log: list[tuple[str, int]] = []

    def with_defaults(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_then_push(note: dict[str, Any]) -> None:
        async with hub.lock(note["user"]):
            saved = store.add(note["user"], note)
            note.update(id=saved["id"], seq=saved["seq"])
            note["delivered"] = await hub.push(note["user"], {"type": "notification", **saved})

    def audit(note: dict[str, Any]) -> None:
        audit_log.append((note["user"], note.get("seq", 0)))

    bus.on("notification.created", with_defaults, priority=EventPriority.HIGH)
    bus.on("notification.created", store_then_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            parsed = json.loads(raw.decode("utf-8", errors="strict"))
            note = validate(parsed)
        except RecursionError:
            return res.json({"error": "JSON nested too deeply"}, status_code=422)
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            message = str(exc) if not isinstance(exc, UnicodeError) else "body is not UTF-8"
            if isinstance(exc, json.JSONDecodeError):
                message = "body is not valid JSON"
            return res.json({"error": message}, status_code=422)
        await bus.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def send(ws: Any, frame: dict[str, Any]) -> None:
        await ws.send_text(json.dumps(frame))

    @app.ws_route("/notifications/{user}")
    async def live(ws: Any) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not good_user(user):
            await send(ws, {"type": "error", "code": "bad_request",
                            "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with hub.lock(user):
                backlog = store.pending(user)
                for note in backlog:
                    await send(ws, {"type": "notification", **note})
                await send(ws, {"type": "backlog_end", "count": len(backlog)})
                hub.join(user, ws)
            while True:
                message = await ws.receive()
                if message.get("type") != "websocket.receive":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await send(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # the client left (during the backlog or later): not an error
            return
        finally:
            hub.leave(user, ws)

    return app
