"""An ack frame without an ids field is treated as an empty list (acked, count 0) instead of a bad frame.

Breaks: "A malformed frame (... ids not a list of strings ...) gets exactly {type: error, code: bad_frame, ...}" and "parse_ack raises ValueError for all of them".
"""

from __future__ import annotations

import asyncio
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

_MISSING = object()


def _has_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(ch) <= 0xDFFF for ch in text)


def validate(data: Any) -> dict[str, str]:
    """The accepted notification with defaults, or ValueError."""
    if type(data) is not dict:
        raise ValueError("expected a JSON object")
    user = data.get("user", _MISSING)
    if user is _MISSING:
        raise ValueError("user is missing")
    if type(user) is not str or NAME.fullmatch(user) is None:
        raise ValueError("user is not 1-32 characters of [A-Za-z0-9_.-]")
    title = data.get("title", _MISSING)
    if title is _MISSING:
        raise ValueError("title is missing")
    if type(title) is not str:
        raise ValueError("title is not a string")
    if len(title) < 1 or len(title) > MAX_TITLE or title.isspace():
        raise ValueError("title must hold 1-200 characters, not only whitespace")
    if _has_surrogate(title):
        raise ValueError("title is not text (lone surrogate)")
    body = data.get("body", _MISSING)
    if body is _MISSING:
        body = ""
    elif type(body) is not str or len(body) > MAX_BODY:
        raise ValueError("body must be a string of at most 2000 characters")
    elif _has_surrogate(body):
        raise ValueError("body is not text (lone surrogate)")
    level = data.get("level", _MISSING)
    if level is _MISSING:
        level = "normal"
    elif type(level) is not str or level not in LEVELS:
        raise ValueError("level must be exactly low, normal or high")
    return {"user": user, "title": title, "body": body, "level": level}


def parse_ack(message: dict[str, Any]) -> list[str]:
    """The ids of an ack frame, or ValueError and nothing else."""
    try:
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            raise ValueError("only text frames holding JSON are accepted")
        try:
            frame = json.loads(message["text"])
        except (ValueError, RecursionError):
            raise ValueError("the frame is not valid JSON") from None
        if type(frame) is not dict or frame.get("type") != "ack":
            raise ValueError('the frame must be an object with "type": "ack"')
        ids = frame.get("ids", [])
        if type(ids) is not list:
            raise ValueError("ids must be a list")
        for item in ids:
            if type(item) is not str or _has_surrogate(item):
                raise ValueError("ids must hold strings only")
        return ids
    except ValueError:
        raise
    except BaseException as exc:  # noqa: BLE001
        if isinstance(exc, (KeyboardInterrupt, SystemExit, asyncio.CancelledError)):
            raise
        raise ValueError("the frame could not be read") from None


class Store:
    """The offline queue in SQLite."""

    def __init__(self, path: str, *, ttl_seconds: float, max_per_user: int) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_per_user = max_per_user
        self.conn = sqlite3.connect(path, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        with self.conn:
            self.conn.executescript(
                """
                CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, next_seq INTEGER NOT NULL);
                CREATE TABLE IF NOT EXISTS queue (
                    id TEXT PRIMARY KEY, user TEXT NOT NULL, seq INTEGER NOT NULL,
                    title TEXT NOT NULL, body TEXT NOT NULL, level TEXT NOT NULL,
                    created_at REAL NOT NULL, expires_at REAL NOT NULL,
                    UNIQUE (user, seq));
                """
            )

    @staticmethod
    def _shape(row: sqlite3.Row) -> dict[str, Any]:
        return {k: row[k] for k in
                ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")}

    def add(self, user: str, fields: dict[str, str]) -> dict[str, Any]:
        created = time.time()
        note = {
            "id": secrets.token_urlsafe(16), "user": user,
            "title": fields["title"], "body": fields["body"], "level": fields["level"],
            "created_at": created, "expires_at": created + self.ttl_seconds,
        }
        with self.conn:
            self.conn.execute("INSERT OR IGNORE INTO users VALUES (?, 0)", (user,))
            (seq,) = self.conn.execute(
                "UPDATE users SET next_seq = next_seq + 1 WHERE name = ? RETURNING next_seq",
                (user,),
            ).fetchone()
            note["seq"] = seq
            self.conn.execute(
                "INSERT INTO queue (id, user, seq, title, body, level, created_at, expires_at)"
                " VALUES (:id, :user, :seq, :title, :body, :level, :created_at, :expires_at)",
                note,
            )
            self.conn.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?",
                              (user, created))
            rows = self.conn.execute(
                "SELECT seq FROM queue WHERE user = ? ORDER BY seq DESC", (user,)
            ).fetchall()
            for row in rows[self.max_per_user:]:
                self.conn.execute("DELETE FROM queue WHERE user = ? AND seq = ?",
                                  (user, row["seq"]))
        return {k: note[k] for k in
                ("id", "seq", "user", "title", "body", "level", "created_at", "expires_at")}

    def pending(self, user: str) -> list[dict[str, Any]]:
        now = time.time()
        with self.conn:
            self.conn.execute("DELETE FROM queue WHERE user = ? AND expires_at <= ?", (user, now))
            rows = self.conn.execute(
                "SELECT * FROM queue WHERE user = ? AND expires_at > ? ORDER BY seq", (user, now)
            ).fetchall()
        return [self._shape(r) for r in rows]

    def ack(self, user: str, ids: list[str]) -> int:
        now = time.time()
        total = 0
        with self.conn:
            for note_id in dict.fromkeys(ids):
                total += self.conn.execute(
                    "DELETE FROM queue WHERE id = ? AND user = ? AND expires_at > ?",
                    (note_id, user, now),
                ).rowcount
        return total


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    send_timeout: float = SEND_TIMEOUT,
) -> NexiosApp:
    """The app: POST /notifications and the /notifications/{user} WebSocket route."""
    app = NexiosApp()
    bus = day25.install(app)
    store = Store(db_path, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    # user -> {ws: state}; state is {"lock", "buffer" (a list while joining, else None)}
    tabs: dict[str, dict[WebSocket, dict[str, Any]]] = {}
    audit_log: list[tuple[str, str]] = []

    async def locked_send(state: dict[str, Any], ws: WebSocket, frame: dict[str, Any]) -> None:
        async with state["lock"]:
            await ws.send_text(json.dumps(frame))

    def on_high(note: dict[str, Any]) -> None:
        note["received_at"] = time.time()

    async def on_medium(note: dict[str, Any]) -> None:
        saved = store.add(note["user"], note)
        note["saved"] = saved
        frame = {"type": "notification", **saved}
        mine = tabs.get(note["user"], {})
        targets = []
        for ws, state in list(mine.items()):
            if state["buffer"] is not None:
                state["buffer"].append(saved)
            else:
                targets.append((ws, state))

        async def try_send(ws: WebSocket, state: dict[str, Any]) -> int:
            try:
                await asyncio.wait_for(locked_send(state, ws, frame), send_timeout)
            except Exception:  # noqa: BLE001
                mine.pop(ws, None)
                return 0
            return 1

        note["delivered"] = sum(await asyncio.gather(*(try_send(w, s) for w, s in targets)))

    def on_low(note: dict[str, Any]) -> None:
        audit_log.append((note["user"], note["saved"]["id"]))

    bus.on("notification.created", on_high, priority=EventPriority.HIGH)
    bus.on("notification.created", on_medium, priority=EventPriority.MEDIUM)
    bus.on("notification.created", on_low, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def post_notification(req: Any, res: Any) -> Any:
        try:
            text = (await req.body).decode("utf-8")
            note = validate(json.loads(text))
        except RecursionError:
            return res.json({"error": "the JSON is nested too deeply"}, status_code=422)
        except ValueError as exc:
            return res.json({"error": str(exc) or "invalid JSON"}, status_code=422)
        result = await bus.emit("notification.created", note)
        if not result.ok or "saved" not in note:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        saved = note["saved"]
        return res.json({"id": saved["id"], "seq": saved["seq"],
                         "delivered": note.get("delivered", 0)}, status_code=201)

    @app.ws_route("/notifications/{user}")
    async def socket(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or not NAME.fullmatch(user):
            await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                           "message": "the user name is not valid"}))
            await ws.close(code=BAD_REQUEST_CLOSE)
            return
        state: dict[str, Any] = {"lock": asyncio.Lock(), "buffer": []}
        mine = tabs.setdefault(user, {})
        mine[ws] = state
        try:
            last = 0
            count = 0
            for note in store.pending(user):
                await locked_send(state, ws, {"type": "notification", **note})
                last = note["seq"]
                count += 1
            async with state["lock"]:
                while state["buffer"]:
                    note = state["buffer"].pop(0)
                    if note["seq"] > last and note["expires_at"] > time.time():
                        await ws.send_text(json.dumps({"type": "notification", **note}))
                        last = note["seq"]
                        count += 1
                state["buffer"] = None
                await ws.send_text(json.dumps({"type": "backlog_end", "count": count}))
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    return
                try:
                    ids = parse_ack(message)
                except ValueError as exc:
                    await locked_send(state, ws, {"type": "error", "code": "bad_frame",
                                                  "message": str(exc)})
                    await bus.emit("ws.error", {"user": user, "error": str(exc)})
                    continue
                await locked_send(state, ws, {"type": "acked", "count": store.ack(user, ids)})
        except Exception:  # noqa: BLE001 - a client that left is not an error
            return
        finally:
            mine = tabs.get(user, {})
            mine.pop(ws, None)
            if not mine:
                tabs.pop(user, None)

    return app
