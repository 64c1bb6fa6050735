"""Exercise 4: notification_queueing.

Notifications with an offline queue, delivered over WebSockets. The protocol
(every request, frame, event and close code) is in the notebook
``notification_queueing.ipynb`` and in ``docs/exercises/notification_queueing.md``.

How this module is organised
----------------------------
* :func:`validate` and :func:`parse_ack` are pure functions (easy to test).
* :class:`Store` is the durable queue. It uses an autocommit connection and an
  explicit ``BEGIN IMMEDIATE ... COMMIT`` for every write, guarded by a
  ``threading.Lock`` so the app can run it off the event loop with
  ``asyncio.to_thread``.
* :class:`NotificationService` owns one app's state (its store, its live tabs,
  one ``asyncio.Lock`` per user) and its listeners on ``notification.created``:
  HIGH validates and fills defaults (it marks a refused payload instead of
  raising, and the route answers 422 from that mark), MEDIUM stores then pushes,
  LOW audits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import threading
import time
import uuid
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

_FIELDS = ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")
_VERDICT = object()  # key of the HIGH listener's verdict in the event payload


def _is_text(value: str) -> bool:
    """False when ``value`` holds a lone surrogate, which UTF-8 cannot carry."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def validate(data: Any) -> dict[str, str]:
    """The accepted notification ``{"user", "title", "body", "level"}``, or ValueError.

    ``body`` defaults to ``""`` and ``level`` to ``"normal"`` only when the
    field is missing; any other field is ignored.
    """
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")

    user = data.get("user")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError("'user' must be 1-32 characters of A-Z, a-z, 0-9, '_', '.', '-'")

    if "title" not in data:
        raise ValueError("'title' is missing")
    title = data["title"]
    if not isinstance(title, str):
        raise ValueError("'title' must be a string")
    if len(title) == 0 or len(title) > MAX_TITLE:
        raise ValueError(f"'title' must be 1-{MAX_TITLE} characters long")
    if all(ch.isspace() for ch in title):
        raise ValueError("'title' must not be blank")
    if not _is_text(title):
        raise ValueError("'title' is not valid text (lone surrogate)")

    body: Any = ""
    if "body" in data:
        body = data["body"]
        if not isinstance(body, str):
            raise ValueError("'body' must be a string")
        if len(body) > MAX_BODY:
            raise ValueError(f"'body' must be at most {MAX_BODY} characters long")
        if not _is_text(body):
            raise ValueError("'body' is not valid text (lone surrogate)")

    level: Any = "normal"
    if "level" in data:
        level = data["level"]
        if not (isinstance(level, str) and level in LEVELS):
            raise ValueError(f"'level' must be one of {', '.join(LEVELS)}")

    return {"user": user, "title": title, "body": body, "level": level}


def _ids_of(frame: Any) -> list[str]:
    if not isinstance(frame, dict) or frame.get("type") != "ack":
        raise ValueError('expected an object {"type": "ack", "ids": [...]}')
    ids = frame.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ValueError("'ids' must be a list of strings")
    if not all(_is_text(i) for i in ids):
        raise ValueError("an id is not valid text (lone surrogate)")
    return ids


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of one received ASGI message holding ``{"type": "ack", "ids": [...]}``.

    ``ValueError`` for a binary frame, bad JSON (too deep included), a frame
    that is not an ack or ids that are not strings; never anything else.
    """
    try:
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str):
            raise ValueError("expected a text frame holding JSON")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply") from None
        except ValueError:
            raise ValueError("the frame is not valid JSON") from None
        return _ids_of(frame)
    except ValueError:
        raise
    except Exception as exc:  # pragma: no cover - belt and braces: only ValueError leaves
        raise ValueError(f"malformed frame ({type(exc).__name__})") from None


class Store:
    """The offline queue: every user's unacknowledged notifications, in SQLite at ``path``.

    Durable: a new ``Store`` on the same file (a restarted server) finds every
    unacknowledged notification, and each user's ``seq`` continues where it was.
    """

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        """Open (or create) the database at ``path``."""
        self._ttl = float(ttl_seconds)
        self._cap = int(max_per_user)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(
            path, timeout=30.0, isolation_level=None, check_same_thread=False
        )
        with self._write():
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS queue ("
                " id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,"
                " title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,"
                " created_at REAL NOT NULL, expires_at REAL NOT NULL,"
                " UNIQUE (user, seq))"
            )
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, last INTEGER NOT NULL)"
            )

    @contextlib.contextmanager
    def _write(self) -> Iterator[None]:
        """One committed write transaction (rolled back if the block raises)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _purge(self, now: float) -> None:
        self._conn.execute("DELETE FROM queue WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        """Store a notification for ``user`` from ``fields``; return it, stored."""
        created = time.time()
        note: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "user": user,
            "title": fields["title"],
            "body": fields.get("body", ""),
            "level": fields.get("level", "normal"),
            "created_at": created,
            "expires_at": created + self._ttl,
        }
        with self._write():
            self._purge(created)
            (note["seq"],) = self._conn.execute(
                "INSERT INTO counters (user, last) VALUES (?, 1)"
                " ON CONFLICT (user) DO UPDATE SET last = last + 1 RETURNING last",
                (user,),
            ).fetchone()
            self._conn.execute(
                "INSERT INTO queue (id, user, seq, title, body, level, created_at, expires_at)"
                " VALUES (:id, :user, :seq, :title, :body, :level, :created_at, :expires_at)",
                note,
            )
            # the cap, by rank: everything older than the max_per_user newest goes
            self._conn.execute(
                "DELETE FROM queue WHERE user = ? AND seq <= ("
                " SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                (user, user, max(self._cap, 0)),
            )
        return {k: note[k] for k in _FIELDS}

    def pending(self, user: str) -> list[dict[str, Any]]:
        """The user's unacknowledged, unexpired notifications, in seq order."""
        now = time.time()
        with self._write():
            self._purge(now)
            rows = self._conn.execute(
                "SELECT id, seq, user, title, body, level, created_at, expires_at FROM queue"
                " WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now),
            ).fetchall()
        return [dict(zip(_FIELDS, row)) for row in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        """Acknowledge ``ids``; how many distinct ones were this user's pending."""
        distinct = sorted({i for i in ids if isinstance(i, str) and _is_text(i)})
        if not distinct:
            return 0
        now = time.time()
        with self._write():
            self._purge(now)
            cur = self._conn.execute(
                "DELETE FROM queue WHERE user = ? AND expires_at > ?"
                " AND id IN (SELECT value FROM json_each(?))",
                (user, now, json.dumps(distinct)),
            )
            return cur.rowcount


class _Tab:
    """One open WebSocket of a user; every send is bounded by ``timeout``."""

    def __init__(self, ws: WebSocket, timeout: float) -> None:
        self.ws = ws
        self.timeout = timeout

    async def send(self, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(self.ws.send_text(json.dumps(frame)), self.timeout)
        except Exception:
            return False
        return True

    async def close(self, code: int = 1000) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code), self.timeout)


class NotificationService:
    """The state and listeners of one app."""

    def __init__(self, app: NexiosApp, store: Store, send_timeout: float) -> None:
        self.events = day25.install(app)
        self.store = store
        self.send_timeout = send_timeout
        self.tabs: dict[str, list[_Tab]] = {}
        self.locks: dict[str, asyncio.Lock] = {}
        self.audit_log: list[tuple[str, int, int]] = []
        self._closing: set[asyncio.Task[None]] = set()
        self.events.on("notification.created", self.check, priority=EventPriority.HIGH)
        self.events.on("notification.created", self.deliver, priority=EventPriority.MEDIUM)
        self.events.on("notification.created", self.audit, priority=EventPriority.LOW)

    def lock(self, user: str) -> asyncio.Lock:
        return self.locks.setdefault(user, asyncio.Lock())

    # -- notification.created ------------------------------------------------
    def check(self, note: dict[str, Any]) -> None:
        """HIGH: validate and fill defaults; a refused payload is marked, not stored."""
        try:
            note.update(validate(note))
        except ValueError as exc:
            note[_VERDICT] = exc
        else:
            note[_VERDICT] = None

    async def deliver(self, note: dict[str, Any]) -> None:
        """MEDIUM: commit the notification, then push it to the user's live tabs."""
        if _VERDICT not in note or note[_VERDICT] is not None:
            return
        user = note["user"]
        fields = {"title": note["title"], "body": note["body"], "level": note["level"]}
        async with self.lock(user):
            stored = await asyncio.to_thread(self.store.add, user, fields)
            note["id"], note["seq"] = stored["id"], stored["seq"]
            note["delivered"] = await self.push(user, {"type": "notification", **stored})

    def audit(self, note: dict[str, Any]) -> None:
        """LOW: keep (user, seq, delivered) of every stored notification."""
        if "id" in note and note.get(_VERDICT, 1) is None:
            self.audit_log.append((note["user"], note["seq"], note.get("delivered", 0)))

    # -- tabs ------------------------------------------------------------------
    async def push(self, user: str, frame: dict[str, Any]) -> int:
        reached = 0
        for tab in list(self.tabs.get(user, [])):
            if await tab.send(frame):
                reached += 1
            else:
                self.drop(user, tab)
        return reached

    def drop(self, user: str, tab: _Tab, *, close: bool = True) -> None:
        tabs = self.tabs.get(user)
        if tabs and tab in tabs:
            tabs.remove(tab)
            if not tabs:
                del self.tabs[user]
            if close:  # in the background, bounded: the POST does not wait on it
                task = asyncio.get_running_loop().create_task(tab.close())
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)

    async def connect(self, user: str, tab: _Tab) -> bool:
        """Send the backlog and backlog_end, then make the tab live (False: it died)."""
        async with self.lock(user):
            backlog = await asyncio.to_thread(self.store.pending, user)
            for note in backlog:
                if not await tab.send({"type": "notification", **note}):
                    return False
            if not await tab.send({"type": "backlog_end", "count": len(backlog)}):
                return False
            self.tabs.setdefault(user, []).append(tab)
            return True

    async def serve_tab(self, ws: WebSocket) -> None:
        user = ws.path_params.get("user")
        await ws.accept()
        tab = _Tab(ws, self.send_timeout)
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await tab.send({"type": "error", "code": "bad_request",
                            "message": "bad user name: 1-32 characters of [A-Za-z0-9_.-]"})
            await tab.close(BAD_REQUEST_CLOSE)
            return
        live = False
        try:
            live = await self.connect(user, tab)
            if not live:
                return
            while True:
                message = await ws.receive()
                if message["type"] != "websocket.receive":
                    return  # websocket.disconnect: a normal goodbye
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await tab.send({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await self.events.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                count = await asyncio.to_thread(self.store.ack, user, ids)
                await tab.send({"type": "acked", "count": count})
        except Exception:
            return  # the peer is gone: not an error
        finally:
            if live:
                self.drop(user, tab, close=False)


async def _read_json(req: Any) -> Any:
    """The request body as JSON (``json.loads`` of the bytes); ValueError if it is not."""
    try:
        return await req.json
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise ValueError(f"the body is not JSON text in UTF-8 ({exc.__class__.__name__})") from None


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events``, ``POST /notifications``
    and the ``/notifications/{user}`` WebSocket route."""
    app = NexiosApp()
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    service = NotificationService(app, store, send_timeout)

    @app.post("/notifications")
    async def create_notification(req: Any, res: Any) -> Any:
        try:
            data = await _read_json(req)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        if not isinstance(data, dict):
            return res.json({"error": "expected a JSON object"}, status_code=422)
        note: dict[str, Any] = dict(data)
        await service.events.emit("notification.created", note)
        verdict = note.get(_VERDICT, 1)
        if verdict is not None:
            message = str(verdict) if isinstance(verdict, ValueError) else "not accepted"
            return res.json({"error": message}, status_code=422)
        if "id" not in note:
            return res.json({"error": "the notification was not stored"}, status_code=422)
        return res.json(
            {"id": note["id"], "seq": note["seq"], "delivered": note.get("delivered", 0)},
            status_code=201,
        )

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        await service.serve_tab(ws)

    return app
