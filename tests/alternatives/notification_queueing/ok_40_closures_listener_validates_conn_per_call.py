"""Style: closures inside create_app over defaultdicts, validation only in the HIGH listener, a Store that opens a short-lived connection per call and acks through json_each.

Follows: "Validate in the route before the emit, or only in the HIGH listener (the route then answers 422 from
the emit's error)" (the HIGH listener raises, marks the payload rejected, and MEDIUM/LOW skip it, so nothing is
stored and no seq is used); "MEDIUM store and push to every open tab of the user" (under the user's asyncio.Lock,
one asyncio.wait_for per tab, failed or slow tabs leave the live set and do not count); "Backlog first ... then
backlog_end ... Then live" (the same lock around backlog, backlog_end and joining the live set, expiry checked
again before every frame); "ids ... never reused ... even when every notification was acknowledged" (a counters
table updated in the insert's transaction); "no app leaves a transaction open on the file" (each call opens,
commits and closes its own connection).
"""

from __future__ import annotations

import asyncio
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

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped
COLUMNS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
LONE = re.compile("[\ud800-\udfff]")
MISSING = object()


def _text(value: Any, name: str, low: int, high: int) -> str:
    if type(value) is not str:
        raise ValueError(f"{name} must be a string")
    if not low <= len(value) <= high:
        raise ValueError(f"{name} must have {low}-{high} characters")
    if LONE.search(value):
        raise ValueError(f"{name} holds a lone surrogate")
    return value


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    user = data.get("user", MISSING)
    if user is MISSING:
        raise ValueError("missing field: user")
    if type(user) is not str or NAME.fullmatch(user) is None:
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _, . or -")
    title = data.get("title", MISSING)
    if title is MISSING:
        raise ValueError("missing field: title")
    title = _text(title, "title", 1, MAX_TITLE)
    if all(ch.isspace() for ch in title):
        raise ValueError("title is blank")
    body = _text(data.get("body", ""), "body", 0, MAX_BODY)
    level = data.get("level", "normal")
    if type(level) is not str or level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("binary frames are not accepted")
        if type(text) is not str:
            raise ValueError("frame without text")
        frame = json.loads(text)
        if type(frame) is not dict:
            raise ValueError("a frame must be a JSON object")
        kind = frame.get("type")
        if type(kind) is not str or kind != "ack":
            raise ValueError('unknown frame type (expected "ack")')
        ids = frame.get("ids", MISSING)
        if type(ids) is not list:
            raise ValueError("ids must be a list")
        for one in ids:
            if type(one) is not str:
                raise ValueError("ids must be strings")
            if LONE.search(one):
                raise ValueError("an id holds a lone surrogate")
        return ids
    except ValueError:
        raise
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except Exception as exc:  # whatever else a hostile message could provoke
        raise ValueError(f"malformed frame ({type(exc).__name__})") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.path, self.ttl, self.cap = path, float(ttl_seconds), int(max_per_user)
        with closing(self._open()) as db, db:
            db.execute("CREATE TABLE IF NOT EXISTS queue (id TEXT PRIMARY KEY, seq INTEGER, "
                       "user TEXT, title TEXT, body TEXT, level TEXT, created_at REAL, "
                       "expires_at REAL, UNIQUE (user, seq))")
            db.execute("CREATE TABLE IF NOT EXISTS last_seq (user TEXT PRIMARY KEY, n INTEGER)")

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        with closing(self._open()) as db, db:  # one transaction, committed on exit
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (created,))
            db.execute("INSERT INTO last_seq VALUES (?, 1) "
                       "ON CONFLICT (user) DO UPDATE SET n = n + 1", (user,))
            seq = db.execute("SELECT n FROM last_seq WHERE user = ?", (user,)).fetchone()[0]
            row = (uuid.uuid4().hex, seq, user, fields["title"], fields.get("body", ""),
                   fields.get("level", "normal"), created, created + self.ttl)
            db.execute("INSERT INTO queue VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
            db.execute("DELETE FROM queue WHERE id IN (SELECT id FROM queue WHERE user = ? "
                       "ORDER BY seq DESC LIMIT -1 OFFSET ?)", (user, max(self.cap, 0)))
        return dict(zip(COLUMNS, row))

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with closing(self._open()) as db, db:
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
            rows = db.execute("SELECT * FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq",
                              (user, now)).fetchall()
        return [{k: row[k] for k in COLUMNS} for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        with closing(self._open()) as db, db:
            gone = db.execute("DELETE FROM queue WHERE user = ? AND expires_at > ? AND id IN "
                              "(SELECT value FROM json_each(?))",
                              (user, now, json.dumps(list(ids)))).rowcount
            db.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))
        return gone


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
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    live: defaultdict[str, set[Any]] = defaultdict(set)
    audit = {"created": 0}

    def as_frame(note: dict[str, Any]) -> dict[str, Any]:
        return {"type": "notification", **{k: note[k] for k in COLUMNS}}

    async def deliver(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), send_timeout)
            return True
        except Exception:
            return False

    @events.on("notification.created", priority=EventPriority.HIGH)
    def check(note: dict[str, Any]) -> None:
        try:
            accepted = validate(note)
        except ValueError as exc:
            note["rejected"] = str(exc)
            raise
        note.clear()
        note.update(accepted)

    @events.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(note: dict[str, Any]) -> None:
        if "rejected" in note:
            return
        user = note["user"]
        async with locks[user]:
            note.update(store.add(user, note))
            frame = as_frame(note)
            tabs = list(live[user])
            outcomes = await asyncio.gather(*(deliver(ws, frame) for ws in tabs))
            live[user].difference_update(ws for ws, ok in zip(tabs, outcomes) if not ok)
            note["delivered"] = outcomes.count(True)

    @events.on("notification.created", priority=EventPriority.LOW)
    def count_it(note: dict[str, Any]) -> None:
        if "rejected" not in note:
            audit["created"] += 1

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not UTF-8 JSON"}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note = dict(data)
        await events.emit("notification.created", note)
        if "rejected" in note:
            return res.json({"error": note["rejected"]}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def tab(ws: Any) -> None:
        user = ws.path_params.get("user", "")
        await ws.accept()
        if NAME.fullmatch(user) is None:
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad user name"})
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        try:
            async with locks[user]:
                count = 0
                for note in store.pending(user):
                    if note["expires_at"] <= time.time():
                        continue  # expired while earlier frames were on their way
                    if not await deliver(ws, as_frame(note)):
                        return
                    count += 1
                if not await deliver(ws, {"type": "backlog_end", "count": count}):
                    return
                live[user].add(ws)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            pass  # the client went away: a normal end, nothing to report
        finally:
            live[user].discard(ws)
            if not live[user]:
                live.pop(user, None)

    app.audit = audit  # type: ignore[attr-defined]
    return app
