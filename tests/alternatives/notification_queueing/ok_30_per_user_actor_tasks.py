"""Style: one actor task per user owns that user's live tabs and serialises "store, then push" and "join after the backlog" through an asyncio.Queue of commands (no locks in the app), validation is a generator of problems, and the Store acks through a TEMP table filled with executemany.

Follows: "`validate(data) -> dict` | the accepted notification with defaults, or `ValueError("<what is wrong>")`" (the first of `problems(data)`: a dict, user by `NAME.fullmatch`, title 1-200 characters by `len` and not only whitespace, body at most 2000, level exactly one of LEVELS, a present field checked even when `null` or `""`, lone surrogates refused; defaults only for missing fields; other fields dropped); "Invalid JSON, not an object, or a bad field: **422** `{"error": "<what is wrong>"}`, and **nothing is stored**" (strict UTF-8 decode, `json.loads` with ValueError and RecursionError caught, validated before the emit); "its listeners run by priority: **HIGH** validate/enrich (defaults), **MEDIUM** store and push to every open tab of the user, **LOW** audit"; "`K` the number of the user's live tabs the push reached: a tab whose send failed or timed out does not count, a tab still receiving its backlog (which then includes this notification) does not count, and a user with no tab open gets 0" (the actor pushes to its live set only; a tab joins it in the actor's `ready` step, which first hands back anything stored since the tab's last seq); "Backlog first." / "Then live." (backlog frames, `backlog_end` with the count sent, then live, never interleaved); "`N` is how many distinct ids of the list were this user's pending (stored, unacknowledged, unexpired) notifications" (ids into a TEMP table with `INSERT OR IGNORE`, one DELETE with the user and `expires_at > now`); "**TTL:**", "**Cap and overflow rule:**" (rows past the newest `max_per_user` by seq deleted after each add), "**Ids and order:**", "**Durable:**" (a per-user counter table committed with the row; uuid4 ids); "**Dead tabs:**" (every send under `wait_for(send_timeout)`, pushes to all tabs concurrently, a failed tab leaves the live set); "**Crash safety:**" (the add commits before the actor pushes); "Errors on the WebSocket" (bad_frame to the sender, `ws.error` `{"user", "error"}` awaited, the socket stays open; a disconnect is quiet); "4400 | bad user name at connect".
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
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
SEND_TIMEOUT = 2.0  # seconds a push to one tab may take before that tab is dropped


def _lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def problems(data: Any) -> Iterator[str]:
    """What is wrong with ``data`` as a notification, first problem first."""
    if not isinstance(data, dict):
        yield "the notification must be a JSON object"
        return
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        yield "user must be 1-32 characters of [A-Za-z0-9_.-]"
    if "title" not in data:
        yield "title is required"
    else:
        title = data["title"]
        if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
            yield f"title must be text of 1-{MAX_TITLE} characters"
        elif not title.strip():
            yield "title must not be only whitespace"
        elif _lone_surrogate(title):
            yield "title holds a lone surrogate"
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str) or len(body) > MAX_BODY:
            yield f"body must be text of at most {MAX_BODY} characters"
        elif _lone_surrogate(body):
            yield "body holds a lone surrogate"
    if "level" in data and not (isinstance(data["level"], str) and data["level"] in LEVELS):
        yield "level must be exactly 'low', 'normal' or 'high'"


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError."""
    for problem in problems(data):
        raise ValueError(problem)
    return {"user": data["user"], "title": data["title"],
            "body": data.get("body", ""), "level": data.get("level", "normal")}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``."""
    if message.get("text") is None:
        raise ValueError("a binary frame: frames are JSON text")
    try:
        frame = json.loads(message["text"])
    except (ValueError, TypeError, RecursionError):
        raise ValueError("the frame is not JSON") from None
    if not isinstance(frame, dict):
        raise ValueError("the frame is not a JSON object")
    if frame.get("type") != "ack":
        raise ValueError('the frame\'s type must be "ack"')
    ids = frame.get("ids")
    if not isinstance(ids, list):
        raise ValueError("ids must be a list")
    if not all(isinstance(one, str) and not _lone_surrogate(one) for one in ids):
        raise ValueError("ids must be strings")
    return ids


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS pending_notes (id TEXT PRIMARY KEY,"
                " seq INTEGER NOT NULL, user TEXT NOT NULL, title TEXT NOT NULL,"
                " body TEXT NOT NULL, level TEXT NOT NULL, created_at REAL NOT NULL,"
                " expires_at REAL NOT NULL)"
            )
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )
            self._db.execute("CREATE TEMP TABLE IF NOT EXISTS ack_ids (id TEXT PRIMARY KEY)")

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock, self._db:
            now = time.time()
            self._db.execute("INSERT OR IGNORE INTO counters (user, last) VALUES (?, 0)", (user,))
            self._db.execute("UPDATE counters SET last = last + 1 WHERE user = ?", (user,))
            seq = self._db.execute("SELECT last FROM counters WHERE user = ?", (user,)).fetchone()[0]
            note = {"id": str(uuid.uuid4()), "seq": seq, "user": user, "title": fields["title"],
                    "body": fields.get("body", ""), "level": fields.get("level", "normal"),
                    "created_at": now, "expires_at": now + self.ttl_seconds}
            self._db.execute(
                "INSERT INTO pending_notes (id, seq, user, title, body, level, created_at,"
                " expires_at) VALUES (:id, :seq, :user, :title, :body, :level, :created_at,"
                " :expires_at)",
                note,
            )
            self._db.execute("DELETE FROM pending_notes WHERE expires_at <= ?", (now,))
            cut = self._db.execute(
                "SELECT seq FROM pending_notes WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
                (user, max(self.max_per_user, 0)),
            ).fetchone()
            if cut is not None:
                self._db.execute("DELETE FROM pending_notes WHERE user = ? AND seq <= ?",
                                 (user, cut[0]))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._lock, self._db:
            now = time.time()
            self._db.execute("DELETE FROM pending_notes WHERE expires_at <= ?", (now,))
            rows = self._db.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at"
                " FROM pending_notes WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(row) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        usable = [(one,) for one in ids if isinstance(one, str) and not _lone_surrogate(one)]
        with self._lock, self._db:
            self._db.execute("DELETE FROM ack_ids")
            self._db.executemany("INSERT OR IGNORE INTO ack_ids (id) VALUES (?)", usable)
            count = self._db.execute(
                "DELETE FROM pending_notes WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT id FROM ack_ids)",
                (user, time.time()),
            ).rowcount
            self._db.execute("DELETE FROM ack_ids")
        return count


class UserActor:
    """Owns one user's live tabs; runs that user's commands one at a time."""

    def __init__(self, user: str, store: Store, send_timeout: float) -> None:
        self.user = user
        self.store = store
        self.send_timeout = send_timeout
        self.live: set[WebSocket] = set()
        self.commands: asyncio.Queue[tuple[str, Any, asyncio.Future[Any]]] = asyncio.Queue()
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            name, arg, reply = await self.commands.get()
            try:
                result = await getattr(self, "do_" + name)(arg)
            except Exception as exc:
                if not reply.done():
                    reply.set_exception(exc)
            else:
                if not reply.done():
                    reply.set_result(result)

    async def call(self, name: str, arg: Any) -> Any:
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self.commands.put((name, arg, reply))
        return await reply

    async def send(self, ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_json(frame), self.send_timeout)
        except Exception:
            return False
        return True

    async def do_post(self, fields: dict[str, Any]) -> dict[str, Any]:
        note = self.store.add(self.user, fields)  # committed before the push
        tabs = list(self.live)
        reached = await asyncio.gather(
            *(self.send(ws, {"type": "notification", **note}) for ws in tabs)
        )
        self.live.difference_update(ws for ws, ok in zip(tabs, reached) if not ok)
        return {**note, "delivered": sum(reached)}

    async def do_ready(self, arg: tuple[WebSocket, int, int]) -> list[dict[str, Any]] | None:
        """A tab sent its backlog up to ``seq``: more rows to send, [] once live, None if dead."""
        ws, seq, count = arg
        more = [n for n in self.store.pending(self.user) if n["seq"] > seq]
        if more:
            return more
        if not await self.send(ws, {"type": "backlog_end", "count": count}):
            return None
        self.live.add(ws)
        return []


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the two routes."""
    app = NexiosApp()
    day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    actors: dict[str, UserActor] = {}
    audit_counts: Counter[str] = Counter()

    def actor(user: str) -> UserActor:
        if user not in actors:
            actors[user] = UserActor(user, store, send_timeout)
        return actors[user]

    def enrich(note: dict[str, Any]) -> None:
        note.setdefault("body", "")
        note.setdefault("level", "normal")

    async def store_and_push(note: dict[str, Any]) -> None:
        note.update(await actor(note["user"]).call("post", dict(note)))

    def audit(note: dict[str, Any]) -> None:
        audit_counts[note["user"]] += 1

    app.events.on("notification.created", enrich, priority=EventPriority.HIGH)
    app.events.on("notification.created", store_and_push, priority=EventPriority.MEDIUM)
    app.events.on("notification.created", audit, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        raw = await req.body
        try:
            data = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return res.json({"error": "the body is not JSON text in UTF-8"}, status_code=422)
        try:
            note: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        await app.events.emit("notification.created", note)
        if "seq" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"], "delivered": note["delivered"]},
                        status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user", "")
        if not NAME.fullmatch(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "the user must be 1-32 characters of [A-Za-z0-9_.-]"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        owner = actor(user)
        try:
            rows, seq, count = store.pending(user), 0, 0
            while True:
                for note in rows:
                    if not await owner.send(ws, {"type": "notification", **note}):
                        return
                    seq, count = note["seq"], count + 1
                # the actor hands back anything stored since, or sends backlog_end and joins
                rows = await owner.call("ready", (ws, seq, count))
                if rows is None:
                    return
                if not rows:
                    break
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await app.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await ws.send_json({"type": "acked", "count": store.ack(user, ids)})
        except Exception:
            return  # the client left: a normal disconnect, not an error
        finally:
            owner.live.discard(ws)

    return app
