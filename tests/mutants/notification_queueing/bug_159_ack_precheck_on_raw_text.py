"""Bug: parse_ack rejects, before parsing, any text frame that does not contain the characters `"ack"` (a cheap filter that also spares json.loads deep nesting), so a valid ack whose type is written with a JSON escape is refused as a bad frame.

Breaks: "A malformed frame (...; not an object whose `type` is exactly `"ack"`; ...) gets exactly `{"type": "error", "code": "bad_frame", ...}`" ... the frame `{"type": "\\u0061ck", "ids": [ID]}` is an object whose type is exactly "ack" once parsed, yet it gets a bad_frame error and a ws.error instead of {"type": "acked", "count": 1}.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from dataclasses import asdict, dataclass
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

ACCEPTED = "_accepted"  # set on the payload by the HIGH listener


def _has_lone_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("'user' must be 1-32 characters of A-Z a-z 0-9 _ . -")
    title = data.get("title")
    if not isinstance(title, str):
        raise ValueError("'title' is required and must be a string")
    if not 0 < len(title) <= MAX_TITLE:
        raise ValueError(f"'title' must have 1-{MAX_TITLE} characters")
    if title.strip() == "":
        raise ValueError("'title' is only whitespace")
    body = data["body"] if "body" in data else ""
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"'body' must be a string of at most {MAX_BODY} characters")
    level = data["level"] if "level" in data else "normal"
    if type(level) is not str or level not in LEVELS:
        raise ValueError("'level' must be 'low', 'normal' or 'high'")
    if _has_lone_surrogate(title) or _has_lone_surrogate(body):
        raise ValueError("'title' and 'body' must not hold lone surrogates")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        return _parse_ack(message)
    except ValueError:
        raise
    except BaseException as exc:  # RecursionError and anything else a frame can provoke
        if not isinstance(exc, Exception):
            raise
        raise ValueError(f"unreadable frame: {type(exc).__name__}") from None


def _parse_ack(message: dict[str, Any]) -> list[str]:
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not supported; send JSON text")
    if not isinstance(text, str):
        raise ValueError("the frame holds no text")
    if '"ack"' not in text:  # cheap reject before parsing: no ack frame without the word
        raise ValueError("expected an object with type 'ack'")
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except ValueError:
        raise ValueError("the frame is not valid JSON") from None
    match value:
        case {"type": "ack", "ids": list(ids)} if isinstance(value["type"], str):
            pass
        case {"type": "ack"}:
            raise ValueError("'ids' must be a list of strings")
        case _:
            raise ValueError("expected an object with type 'ack'")
    if not all(isinstance(i, str) and not _has_lone_surrogate(i) for i in ids):
        raise ValueError("'ids' must be a list of strings")
    return list(ids)


@dataclass(frozen=True)
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


_COLS = "id, seq, user, title, body, level, created_at, expires_at"


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl = ttl_seconds
        self.cap = max_per_user
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.execute("CREATE TABLE IF NOT EXISTS counters "
                        "(user TEXT PRIMARY KEY, last INTEGER NOT NULL)")
        self.db.execute(f"CREATE TABLE IF NOT EXISTS notes ({_COLS}, PRIMARY KEY (id))")
        self.db.execute("CREATE INDEX IF NOT EXISTS notes_user ON notes (user, seq)")

    def _tx(self, work: Any) -> Any:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            result = work()
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return result

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        def work() -> Note:
            now = time.time()
            (last,) = self.db.execute(
                "INSERT INTO counters (user, last) VALUES (?, 1) "
                "ON CONFLICT (user) DO UPDATE SET last = last + 1 RETURNING last",
                (user,)).fetchone()
            note = Note(str(uuid.uuid4()), last, user, fields["title"], fields["body"],
                        fields["level"], now, now + self.ttl)
            self.db.execute(f"INSERT INTO notes ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            tuple(asdict(note).values()))
            self.db.execute("DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now))
            self.db.execute(
                "DELETE FROM notes WHERE user = ? AND seq <= COALESCE(("
                " SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?"
                "), -1)", (user, user, self.cap))
            return note
        return asdict(self._tx(work))

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        self._tx(lambda: self.db.execute(
            "DELETE FROM notes WHERE user = ? AND expires_at <= ?", (user, now)))
        rows = self.db.execute(
            f"SELECT {_COLS} FROM notes WHERE user = ? AND expires_at > ? ORDER BY seq",
            (user, now)).fetchall()
        return [asdict(Note(**dict(row))) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        return int(self._tx(lambda: self.db.execute(
            "DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN "
            "(SELECT DISTINCT value FROM json_each(?))",
            (user, now, json.dumps(list(ids)))).rowcount))


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    app = NexiosApp()
    day25.install(app)
    events = app.events
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: dict[str, set[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    counts = {"notifications": 0}

    async def deliver(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.send_text(json.dumps(frame))
            return True
        except Exception:
            return False

    def check(payload: dict[str, Any]) -> None:
        accepted = validate(payload)  # raises ValueError: the route answers 422
        payload.update(accepted)
        payload[ACCEPTED] = True

    async def keep_and_push(payload: dict[str, Any]) -> None:
        if not payload.get(ACCEPTED):
            return
        user = payload["user"]
        async with locks.setdefault(user, asyncio.Lock()):
            note = store.add(user, payload)
            payload["id"], payload["seq"] = note["id"], note["seq"]
            frame = {"type": "notification", **note}
            targets = list(tabs.get(user, ()))
            outcomes = await asyncio.gather(*(deliver(ws, frame) for ws in targets))
            for ws, ok in zip(targets, outcomes):
                if not ok:
                    tabs.get(user, set()).discard(ws)
            payload["delivered"] = outcomes.count(True)

    def audit(payload: dict[str, Any]) -> None:
        if payload.get(ACCEPTED):
            counts["notifications"] += 1

    events.on("notification.created", check, priority=EventPriority.HIGH)
    events.on("notification.created", keep_and_push, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads((await req.body).decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body must be JSON text in UTF-8"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        payload = dict(data)
        payload.pop(ACCEPTED, None)
        result = await events.emit("notification.created", payload)
        if not payload.get(ACCEPTED) or "seq" not in payload:
            error = next((str(e) for e in result.errors), "refused")
            return res.json({"error": error}, status_code=422)
        return res.json({"id": payload["id"], "seq": payload["seq"],
                         "delivered": payload["delivered"]}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def connect(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": f"bad user {user!r}"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with locks.setdefault(user, asyncio.Lock()):
            backlog = store.pending(user)
            for note in backlog:
                if not await deliver(ws, {"type": "notification", **note}):
                    return
            if not await deliver(ws, {"type": "backlog_end", "count": len(backlog)}):
                return
            tabs.setdefault(user, set()).add(ws)
        try:
            while (message := await ws.receive())["type"] == "websocket.receive":
                try:
                    ids = parse_ack(message)
                except ValueError as problem:
                    await deliver(ws, {"type": "error", "code": "bad_frame",
                                       "message": str(problem)})
                    await events.emit("ws.error", {"user": user, "error": str(problem)})
                    continue
                await deliver(ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass
        finally:
            tabs.get(user, set()).discard(ws)

    return app
