"""Bug: the id is an `INTEGER PRIMARY KEY AUTOINCREMENT` rendered as a string, and acks match it with SQL `id IN (?)` on the text given, so SQLite's integer affinity makes `"01"`, `" 1"`, `"1\n"` or `"1.0"` acknowledge notification `"1"`.

Breaks: "Success: **201** `{"id": ID, "seq": N, "delivered": K}`, where `ID` is a unique string" together with "An id matches only exactly as given (`"01"`, `" 1"` or `"1\n"` is not the id `"1"`, another case neither)." ... "a unique string" was read as "sent as a string" (a number that never repeats is unique, and it is serialised with `str`), but the id is a string and must match only exactly: after POST gives id "1", an ack of ["01"] must get count 0 and leave it queued; here it gets count 1 and the notification is gone.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import threading
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


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


def validate(data: Any) -> dict[str, str]:
    if not isinstance(data, dict):
        raise ValueError("the notification must be a JSON object")
    user = data.get("user")
    if not isinstance(user, str) or not NAME.fullmatch(user):
        raise ValueError("user must be 1-32 characters of A-Z, a-z, 0-9, _ . -")
    title = data.get("title")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValueError(f"title must be 1-{MAX_TITLE} characters")
    if title.isspace():
        raise ValueError("title must not be only whitespace")
    if _has_surrogate(title):
        raise ValueError("title holds a lone surrogate")
    body = data.get("body", "") if "body" in data else ""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if len(body) > MAX_BODY:
        raise ValueError(f"body must be at most {MAX_BODY} characters")
    if _has_surrogate(body):
        raise ValueError("body holds a lone surrogate")
    level = data["level"] if "level" in data else "normal"
    if not isinstance(level, str) or level not in LEVELS:
        raise ValueError("level must be one of low, normal, high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    try:
        text = message.get("text")
        if text is None:
            raise ValueError("binary frames are not accepted")
        try:
            frame = json.loads(text)
        except RecursionError:
            raise ValueError("the frame is nested too deeply") from None
        except ValueError:
            raise ValueError("the frame is not JSON") from None
        if not isinstance(frame, dict) or frame.get("type") != "ack":
            raise ValueError('the frame must be an object whose type is "ack"')
        ids = frame.get("ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValueError("ids must be a list of strings")
        if any(_has_surrogate(i) for i in ids):
            raise ValueError("an id holds a lone surrogate")
        return ids
    except ValueError:
        raise
    except Exception as exc:  # noqa: BLE001 - never anything but ValueError
        raise ValueError(f"bad frame: {type(exc).__name__}") from None


COLUMNS = "id, seq, user, title, body, level, created_at, expires_at"


class Store:
    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        with self._lock, self._db:
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                " seq INTEGER NOT NULL,"
                " user TEXT NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL,"
                " level TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL)")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS counters (user TEXT PRIMARY KEY, seq INTEGER NOT NULL)")

    @staticmethod
    def _row(row: tuple[Any, ...]) -> dict[str, Any]:
        note = dict(zip(("id", "seq", "user", "title", "body", "level", "created_at",
                         "expires_at"), row))
        note["id"] = str(note["id"])  # the id is a string on the wire
        return note

    def _purge(self, now: float) -> None:
        self._db.execute("DELETE FROM notes WHERE expires_at <= ?", (now,))

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        with self._lock, self._db:
            now = time.time()
            self._purge(now)
            self._db.execute(
                "INSERT INTO counters (user, seq) VALUES (?, 1)"
                " ON CONFLICT(user) DO UPDATE SET seq = seq + 1", (user,))
            (seq,) = self._db.execute("SELECT seq FROM counters WHERE user = ?", (user,)).fetchone()
            note = {"seq": seq, "user": user,
                    "title": fields["title"], "body": fields.get("body", ""),
                    "level": fields.get("level", "normal"), "created_at": now,
                    "expires_at": now + self.ttl_seconds}
            cur = self._db.execute(
                "INSERT INTO notes (seq, user, title, body, level, created_at, expires_at)"
                " VALUES (:seq, :user, :title, :body, :level, :created_at, :expires_at)", note)
            # AUTOINCREMENT: a rowid is never handed out twice, even after deletes
            note = {"id": str(cur.lastrowid), **note}
            self._db.execute(
                "DELETE FROM notes WHERE user = ? AND seq NOT IN"
                " (SELECT seq FROM notes WHERE user = ? ORDER BY seq DESC LIMIT ?)",
                (user, user, max(self.max_per_user, 0)))
        return note

    def pending(self, user: str) -> list[dict[str, Any]]:
        with self._lock, self._db:
            now = time.time()
            self._purge(now)
            rows = self._db.execute(
                f"SELECT {COLUMNS} FROM notes WHERE user = ? AND expires_at > ? ORDER BY seq",
                (user, now)).fetchall()
        return [self._row(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        wanted = list(dict.fromkeys(ids))
        count = 0
        with self._lock, self._db:
            now = time.time()
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                marks = ", ".join("?" * len(chunk))
                cur = self._db.execute(
                    f"DELETE FROM notes WHERE user = ? AND expires_at > ? AND id IN ({marks})",
                    (user, now, *chunk))
                count += cur.rowcount
            self._purge(now)
        return count


class _Tab:
    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.lock = asyncio.Lock()

    async def send(self, frame: dict[str, Any]) -> None:
        async with self.lock:
            await self.ws.send_text(json.dumps(frame))


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
    live: dict[str, list[_Tab]] = {}
    user_locks: dict[str, asyncio.Lock] = {}
    audit: list[tuple[str, int]] = []

    def lock_for(user: str) -> asyncio.Lock:
        return user_locks.setdefault(user, asyncio.Lock())

    async def push(tab: _Tab, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(tab.send(frame), send_timeout)
            return True
        except Exception:  # noqa: BLE001 - failed or timed out: the tab is dead
            return False

    @bus.on("notification.created", priority=EventPriority.HIGH)
    def enrich(note: dict[str, Any]) -> None:
        note.update(validate(note))

    @bus.on("notification.created", priority=EventPriority.MEDIUM)
    async def store_and_push(note: dict[str, Any]) -> None:
        user = note["user"]
        async with lock_for(user):
            stored = store.add(user, note)
            note.update(id=stored["id"], seq=stored["seq"])
            if stored["expires_at"] <= time.time():  # expired already: never delivered
                note["delivered"] = 0
                return
            tabs = list(live.get(user, ()))
            frame = {"type": "notification", **stored}
            results = await asyncio.gather(*(push(t, frame) for t in tabs))
            for tab, ok in zip(tabs, results):
                if not ok and tab in live.get(user, ()):
                    live[user].remove(tab)
            note["delivered"] = sum(results)

    @bus.on("notification.created", priority=EventPriority.LOW)
    def log(note: dict[str, Any]) -> None:
        audit.append((note["user"], note.get("seq", 0)))

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            raw = await req.body
            data = json.loads(raw.decode("utf-8"))
            fields = validate(data)
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError too
            return res.json({"error": str(exc) or "bad JSON"}, status_code=422)
        note: dict[str, Any] = dict(fields)
        result = await bus.emit("notification.created", note)
        if "id" not in note:
            why = str(result.errors[0]) if result.errors else "not stored"
            return res.json({"error": why}, status_code=422)
        return res.json({"id": note["id"], "seq": note["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def notifications(ws: WebSocket) -> None:
        user = ws.path_params["user"]
        await ws.accept()
        if not isinstance(user, str) or not NAME.fullmatch(user):
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": "bad user name"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:  # noqa: BLE001 - the client left already
                pass
            return
        tab = _Tab(ws)
        try:
            async with lock_for(user):
                backlog = store.pending(user)
                for note in backlog:
                    await tab.send({"type": "notification", **note})
                await tab.send({"type": "backlog_end", "count": len(backlog)})
                live.setdefault(user, []).append(tab)
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await tab.send({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await tab.send({"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - a client that left: not an error
            pass
        finally:
            tabs = live.get(user)
            if tabs and tab in tabs:
                tabs.remove(tab)

    return app
