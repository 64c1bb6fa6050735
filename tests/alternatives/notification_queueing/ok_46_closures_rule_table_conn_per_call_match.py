"""Style: plain closures inside create_app, a table of field rules driving validate, a short-lived SQLite connection per Store call (opened, committed, closed), seq handed out by UPDATE ... RETURNING, and the WebSocket frames dispatched with a `match` statement.

Follows: "a default is for a **missing** field only: a field that is there must be valid" (each rule row says whether the field is required and what its default is; a present field always goes through its check); "Lengths count characters ... as given" (`len(value)`, no strip, no normalisation); "`seq` ... never reused, not even after acknowledgements, expiry or a restart" (a `seqs` table updated with RETURNING in the same transaction as the insert); "no app leaves a transaction open on the file (commit every write, a purge too)" (every Store call runs in its own connection, committed and closed before it returns); "the oldest (lowest seq) is dropped" (delete the user's rows below the max_per_user-th newest seq); "ids that expired (even if not purged yet) count 0" (ack deletes only `expires_at > now` rows of that user); "a tab still receiving its backlog ... does not count" (a tab joins `live` only after its `backlog_end`, under the per-user lock the push holds); "drops that tab from the live ones" (each send bounded by `send_timeout`; a tab that failed or timed out is removed before the POST answers); "gets exactly {"type": "error", "code": "bad_frame", ...} on that connection only, the app emits `ws.error`" (the `case _` branch of the match).
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import time
import uuid
from typing import Any, Callable

from nexios import NexiosApp
from nexios.websockets import WebSocket

import day25
from day25 import EventPriority

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped

MISSING = object()


def _no_surrogates(value: str) -> bool:
    return not any(0xD800 <= ord(ch) <= 0xDFFF for ch in value)


def _user_ok(value: Any) -> bool:
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _title_ok(value: Any) -> bool:
    return (isinstance(value, str) and 1 <= len(value) <= MAX_TITLE
            and not value.isspace() and _no_surrogates(value))


def _body_ok(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= MAX_BODY and _no_surrogates(value)


def _level_ok(value: Any) -> bool:
    return isinstance(value, str) and value in LEVELS


#: field, default (MISSING: required), check, what is wrong
RULES: tuple[tuple[str, Any, Callable[[Any], bool], str], ...] = (
    ("user", MISSING, _user_ok, "user must be 1-32 characters of [A-Za-z0-9_.-]"),
    ("title", MISSING, _title_ok,
     f"title must be text of 1-{MAX_TITLE} characters, not only whitespace"),
    ("body", "", _body_ok, f"body must be text of at most {MAX_BODY} characters"),
    ("level", "normal", _level_ok, "level must be exactly low, normal or high"),
)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("a notification is a JSON object")
    accepted: dict[str, str] = {}
    for field, default, check, problem in RULES:
        if field not in data:
            if default is MISSING:
                raise ValueError(f"{field} is missing")
            accepted[field] = default
        elif check(data[field]):
            accepted[field] = data[field]
        else:
            raise ValueError(problem)
    return accepted


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if not isinstance(message, dict) or not isinstance(message.get("text"), str):
        raise ValueError("only text frames holding JSON are understood")
    try:
        frame = json.loads(message["text"])
    except (ValueError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    match frame:
        case {"type": "ack", "ids": list(ids)} if all(
            isinstance(i, str) and _no_surrogates(i) for i in ids
        ):
            return ids
        case {"type": "ack", "ids": _}:
            raise ValueError("ids must be a list of strings")
        case {"type": "ack"}:
            raise ValueError("ids is missing")
        case _:
            raise ValueError('expected a JSON object whose type is "ack"')


COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"
KEYS = tuple(c.strip() for c in COLUMNS.split(","))


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self.path = path
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = int(max_per_user)
        self._run(lambda db: db.executescript(
            "CREATE TABLE IF NOT EXISTS notes (id TEXT PRIMARY KEY, seq INTEGER, user TEXT,"
            " title TEXT, body TEXT, level TEXT, created_at REAL, expires_at REAL);"
            "CREATE UNIQUE INDEX IF NOT EXISTS notes_user_seq ON notes (user, seq);"
            "CREATE TABLE IF NOT EXISTS seqs (user TEXT PRIMARY KEY, n INTEGER NOT NULL);"))

    def _run(self, work: Callable[[sqlite3.Connection], Any]) -> Any:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commit, or roll back on an error
                return work(db)
        finally:
            db.close()

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user``; return it with id, seq and times."""
        now = time.time()

        def work(db: sqlite3.Connection) -> dict[str, Any]:
            db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            db.execute("INSERT OR IGNORE INTO seqs (user, n) VALUES (?, 0)", (user,))
            (seq,) = db.execute("UPDATE seqs SET n = n + 1 WHERE user = ? RETURNING n",
                                (user,)).fetchone()
            note = dict(zip(KEYS, (uuid.uuid4().hex, seq, user, fields["title"],
                                   fields.get("body", ""), fields.get("level", "normal"),
                                   now, now + self.ttl_seconds)))
            db.execute(f"INSERT INTO notes ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       tuple(note.values()))
            keep = db.execute("SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC"
                              " LIMIT 1 OFFSET ?", (user, max(self.max_per_user, 0) - 1)).fetchone()
            if self.max_per_user <= 0:
                db.execute("DELETE FROM notes WHERE user = ?", (user,))
            elif keep is not None:
                db.execute("DELETE FROM notes WHERE user = ? AND seq < ?", (user, keep[0]))
            return note

        return self._run(work)

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()

        def work(db: sqlite3.Connection) -> list[dict[str, Any]]:
            db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))
            rows = db.execute(f"SELECT {COLUMNS} FROM notes WHERE user = ? AND expires_at > ?"
                              " ORDER BY seq", (user, now)).fetchall()
            return [dict(zip(KEYS, row)) for row in rows]

        return self._run(work)

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; return how many distinct ones were this user's pending."""
        distinct = list(dict.fromkeys(ids))
        now = time.time()

        def work(db: sqlite3.Connection) -> int:
            total = 0
            for i in range(0, len(distinct), 250):
                batch = distinct[i:i + 250]
                total += db.execute(
                    "DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN (%s)"
                    % ",".join("?" * len(batch)), (user, now, *batch)).rowcount
            return total

        return self._run(work) if distinct else 0


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    live: dict[str, list[WebSocket]] = {}
    locks: dict[str, asyncio.Lock] = {}
    counts = {"created": 0}

    def lock_of(user: str) -> asyncio.Lock:
        return locks.setdefault(user, asyncio.Lock())

    async def deliver(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
        except Exception:
            return False
        return True

    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    async def keep_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_of(user):
            stored = store.add(user, note)
            note.update(stored)
            tabs = list(live.get(user, []))
            frame = {"type": "notification", **stored}
            outcomes = await asyncio.gather(*(deliver(ws, frame) for ws in tabs))
            for ws, reached in zip(tabs, outcomes):
                if not reached and ws in live.get(user, []):
                    live[user].remove(ws)
            note["delivered"] = outcomes.count(True)

    def tally(note: dict[str, Any]) -> None:
        counts["created"] += 1

    bus.on("notification.created", enrich, priority=EventPriority.HIGH)
    bus.on("notification.created", keep_and_push, priority=EventPriority.MEDIUM)
    bus.on("notification.created", tally, priority=EventPriority.LOW)

    async def create(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            note = validate(json.loads(raw.decode("utf-8")))
        except (UnicodeDecodeError, RecursionError, ValueError) as exc:
            return res.json({"error": f"bad notification: {exc}"}, status_code=422)
        outcome = await bus.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "; ".join(map(str, outcome.errors)) or "not stored"},
                            status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    async def tab(ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        if not _user_ok(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with lock_of(user):
                backlog = store.pending(user)
                frames = [{"type": "notification", **row} for row in backlog]
                frames.append({"type": "backlog_end", "count": len(backlog)})
                for frame in frames:
                    if not await deliver(ws, frame):
                        return
                live.setdefault(user, []).append(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    reply = {"type": "acked", "count": store.ack(user, parse_ack(message))}
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                else:
                    await ws.send_json(reply)
        except Exception:
            pass  # the client left; not an error
        finally:
            if ws in live.get(user, []):
                live[user].remove(ws)

    app.post("/notifications")(create)
    app.ws_route("/notifications/{user}")(tab)
    return app
