"""Bug: ack ids are parsed with `uuid.UUID` before matching, which rejects the padded forms the text lists but folds case, braces, `urn:uuid:` and missing hyphens, so `id.upper()` (or `"{" + id + "}"`) acknowledges the notification `id`.

Breaks: "An id matches only exactly as given (`"01"`, `" 1"` or `"1\n"` is not the id `"1"`, another case neither)." ... The listed examples were taken as the whole rule (they are all refused here), but "another case neither" rules out the case folding: an ack of `[n.id.upper()]` must get count 0 and leave `n` queued, and this code answers count 1 and `n` never comes back.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from contextlib import closing
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
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _is_text(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if type(data) is not dict:
        raise ValueError("expected a JSON object")
    match data.get("user"):
        case str(user) if NAME.fullmatch(user):
            pass
        case _:
            raise ValueError("user: 1-32 characters of [A-Za-z0-9_.-]")
    match data.get("title"):
        case str(title) if 0 < len(title) <= MAX_TITLE and not title.isspace() \
                and _is_text(title):
            pass
        case _:
            raise ValueError(f"title: text of 1-{MAX_TITLE} characters, not only whitespace")
    body = data["body"] if "body" in data else ""
    if not (isinstance(body, str) and len(body) <= MAX_BODY and _is_text(body)):
        raise ValueError(f"body: text of at most {MAX_BODY} characters")
    level = data["level"] if "level" in data else "normal"
    if not (isinstance(level, str) and level in LEVELS):
        raise ValueError('level: exactly "low", "normal" or "high"')
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        match message:
            case {"text": str(text)}:
                pass
            case _:
                raise ValueError("binary or empty frame")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        match frame:
            case {"type": "ack", "ids": list(ids)} if all(
                    isinstance(one, str) and _is_text(one) for one in ids):
                return ids
            case {"type": "ack", **_rest}:
                raise ValueError("ids must be a list of strings")
            case _:
                raise ValueError('expected {"type": "ack", "ids": [...]}')
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - only ValueError leaves parse_ack
        raise ValueError(f"malformed frame ({type(exc).__name__})") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    COLS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path = path
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        with self._conn() as db:
            db.executescript(
                "CREATE TABLE IF NOT EXISTS notifications (id TEXT PRIMARY KEY,"
                " seq INTEGER NOT NULL, user TEXT NOT NULL, title TEXT NOT NULL,"
                " body TEXT NOT NULL, level TEXT NOT NULL, created_at REAL NOT NULL,"
                " expires_at REAL NOT NULL);"
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY,"
                " n INTEGER NOT NULL);")

    class _Conn:
        def __init__(self, path: str) -> None:
            self.db = sqlite3.connect(path, timeout=30)

        def __enter__(self) -> sqlite3.Connection:
            return self.db.__enter__()

        def __exit__(self, *exc: Any) -> None:
            with closing(self.db):
                self.db.__exit__(*exc)  # commit (or roll back), then close

    def _conn(self) -> Store._Conn:
        return Store._Conn(self.path)

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; afterwards at most ``max_per_user`` are kept."""
        with self._conn() as db:
            now = time.time()
            (seq,) = db.execute(
                "INSERT INTO counters (user, n) VALUES (?, 1) ON CONFLICT (user)"
                " DO UPDATE SET n = n + 1 RETURNING n", (user,)).fetchone()
            row = (str(uuid.uuid4()), seq, user, fields["title"], fields.get("body", ""),
                   fields.get("level", "normal"), now, now + self.ttl_seconds)
            db.execute("INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            db.execute("DELETE FROM notifications WHERE user = ? AND seq IN (SELECT seq"
                       " FROM notifications WHERE user = ? ORDER BY seq DESC LIMIT -1"
                       " OFFSET ?)", (user, user, max(self.max_per_user, 0)))
        return dict(zip(self.COLS, row))

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        with self._conn() as db:
            now = time.time()
            db.execute("DELETE FROM notifications WHERE expires_at <= ?", (now,))
            rows = db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM notifications WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [dict(zip(self.COLS, row)) for row in rows]

    @staticmethod
    def _canonical(one: str) -> str | None:
        """The id in the form :meth:`add` gives it, or None when it is no id at all
        (``" " + id``, ``id + "\\n"`` or ``"0" + id`` is not an id)."""
        try:
            return str(uuid.UUID(one))
        except ValueError:
            return None

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; how many distinct ones were this user's pending ones."""
        distinct = list(dict.fromkeys(c for c in map(self._canonical, ids) if c is not None))
        count = 0
        with self._conn() as db:
            now = time.time()
            for one in distinct:
                count += db.execute("DELETE FROM notifications WHERE id = ? AND user = ?"
                                    " AND expires_at > ?", (one, user, now)).rowcount
        return count


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
    tab_numbers = itertools.count(1)
    live: defaultdict[str, dict[int, WebSocket]] = defaultdict(dict)
    send_locks: dict[int, asyncio.Lock] = {}
    user_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    counted = {"created": 0}

    async def send(number: int, ws: WebSocket, frame: dict[str, Any]) -> None:
        async with send_locks[number]:
            await ws.send_text(json.dumps(frame))

    async def push_one(user: str, number: int, ws: WebSocket, frame: dict[str, Any],
                       reached: list[int]) -> None:
        try:
            await asyncio.wait_for(send(number, ws, frame), send_timeout)
        except Exception:  # noqa: BLE001 - failed or timed out: dropped
            live[user].pop(number, None)
        else:
            reached.append(number)

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with user_locks[user]:
            stored = store.add(user, note)
            note.update(id=stored["id"], seq=stored["seq"], delivered=0)
            if stored["expires_at"] <= time.time():
                return
            reached: list[int] = []
            frame = {"type": "notification", **stored}
            async with asyncio.TaskGroup() as group:
                for number, ws in list(live[user].items()):
                    group.create_task(push_one(user, number, ws, frame, reached))
            note["delivered"] = len(reached)

    def audit(note: dict[str, Any]) -> None:
        counted["created"] += 1

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            note = validate(json.loads(raw.decode("utf-8")))
        except (ValueError, RecursionError) as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        await events.emit("notification.created", note)
        if "id" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if not NAME.fullmatch(str(user)):
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "bad user name"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:  # noqa: BLE001
                pass
            return
        number = next(tab_numbers)
        send_locks[number] = asyncio.Lock()
        try:
            async with user_locks[user]:
                backlog = store.pending(user)
                for note in backlog:
                    await send(number, ws, {"type": "notification", **note})
                await send(number, ws, {"type": "backlog_end", "count": len(backlog)})
                live[user][number] = ws
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await send(number, ws, {"type": "error", "code": "bad_frame",
                                            "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await send(number, ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - a client that left is not an error
            pass
        finally:
            live[user].pop(number, None)
            send_locks.pop(number, None)

    return app
