"""The demo notification service that ``day25 serve`` runs by default: exercise 4's protocol.

The protocol is in the notifications exercise's page in ``docs/exercises/``. ``POST
/notifications`` emits ``notification.created``; listeners run by priority:
HIGH enriches (defaults), MEDIUM stores in the durable queue and pushes to every
open tab of the user, LOW audits. ``/notifications/{user}`` sends the backlog in
seq order, then ``backlog_end``, then live notifications; ``ack`` removes them.

Why a per-user lock: storing+pushing and "send the backlog, then join the live
tabs" must not interleave, or a notification created while a tab connects would
arrive twice or before the backlog ends. The locks are
:class:`~day25.realtime.NameLocks` (one exists only while in use), and the backlog
is sent within ``BACKLOG_TIMEOUT`` seconds or the tab is closed as a slow
consumer, so a client that never reads cannot hold up the notifications of its user.
Nothing else is kept per user in memory; the SQLite file keeps one sequence
counter per user ever notified (``seq`` is never reused, not even after a restart).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Mapping
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority
from day25.realtime import (
    SLOW_CONSUMER_CLOSE,
    NameLocks,
    Notification,
    OfflineQueue,
    Rooms,
    SQLiteStore,
)

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
NAME_RULE = "1-32 characters: letters A-Z a-z, digits 0-9, '_', '.' or '-'"
LEVELS = ("low", "normal", "high")
MAX_TITLE = 200
MAX_BODY = 2000
BAD_REQUEST_CLOSE = 4400
BACKLOG_TIMEOUT = 10.0
audit_log = logging.getLogger("day25.serve.demo.audit")


def validate(data: Any) -> dict[str, str]:
    """The accepted notification, or ValueError saying what is wrong."""
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    user, title = data.get("user"), data.get("title")
    body, level = data.get("body", ""), data.get("level", "normal")
    if not isinstance(user, str) or NAME.fullmatch(user) is None:
        raise ValueError(f"'user' (the recipient) must be {NAME_RULE}")
    if not isinstance(title, str) or not title.strip() or len(title) > MAX_TITLE:
        raise ValueError(f"'title' must be text of 1-{MAX_TITLE} characters, not only whitespace")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise ValueError(f"'body' must be a string of at most {MAX_BODY} characters")
    if level not in LEVELS:
        raise ValueError(f"'level' must be one of {', '.join(LEVELS)}")
    if not _unicode(title) or not _unicode(body):
        raise ValueError("'title' and 'body' must be Unicode text: a lone surrogate is not")
    return {"user": user, "title": title, "body": body, "level": level}


def _unicode(text: str) -> bool:
    """False for a ``str`` holding a lone surrogate (``"\\ud800"``, valid JSON but not
    text): no UTF-8 holds it, so neither a store nor a WebSocket frame can."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def frame(note: Notification) -> dict[str, Any]:
    return {"type": "notification", **note.to_dict()}


def create_app(
    db_path: str = "notifications.sqlite3",
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    broker: str | None = None,
) -> NexiosApp:
    """A NexiosApp with ``POST /notifications`` and ``/notifications/{user}``.

    ``broker`` (a ``redis://`` URL, ``day25 serve --broker``): one queue in Redis shared
    by several processes, in :mod:`day25.serve.demo.cluster_notifications` (``db_path``
    is not used then)."""
    if broker is not None:
        import sys

        from day25.serve.demo.cluster_notifications import create_app as create_cluster_app

        return create_cluster_app(broker, sys.modules[__name__], ttl_seconds=ttl_seconds,
                                  max_per_user=max_per_user)
    app = NexiosApp()
    events = day25.install(app)
    queue = OfflineQueue(SQLiteStore(db_path), ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs: Rooms[WebSocket] = Rooms(send_timeout=2.0)  # one "room" per user: their open tabs
    locks = NameLocks()
    audited = 0

    def enrich(notice: dict[str, Any]) -> None:
        notice.update(validate(notice))  # defaults filled, and a second line of defence

    async def store_and_deliver(notice: dict[str, Any]) -> None:
        user = notice["user"]
        payload = {k: notice[k] for k in ("title", "body", "level")}
        async with locks.hold(user):
            note = queue.push(user, payload)
            delivered = await tabs.broadcast(user, frame(note))
        notice.update(id=note.id, seq=note.seq, delivered=delivered)

    def audit_it(notice: dict[str, Any]) -> None:
        nonlocal audited
        if "id" not in notice:
            return  # not stored: the store's error is in the log already
        audited += 1
        audit_log.info("notification %s #%s for %s", notice["id"], notice["seq"], notice["user"])

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_and_deliver, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit_it, priority=EventPriority.LOW)

    @app.post("/notifications")
    async def create(req: Any, res: Any) -> Any:
        try:
            data = json.loads(await req.body)
        except (ValueError, RecursionError):  # bad JSON or UTF-8; [[[... past the stack
            return res.json({"error": "the body is not valid JSON"}, status_code=422)
        try:
            notice: dict[str, Any] = validate(data)
        except ValueError as exc:
            return res.json({"error": str(exc)}, status_code=422)
        result = await events.emit("notification.created", notice)
        if not result.ok or "id" not in notice:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        reply = {"id": notice["id"], "seq": notice["seq"], "delivered": notice["delivered"]}
        return res.json(reply, status_code=201)

    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or NAME.fullmatch(user) is None:
            await ws.send_json(
                {"type": "error", "code": "bad_request", "message": f"the user must be {NAME_RULE}"}
            )
            await ws.close(BAD_REQUEST_CLOSE)
            return
        try:
            async with locks.hold(user):
                queue.purge_expired()
                backlog = queue.pending(user)
                try:
                    async with asyncio.timeout(BACKLOG_TIMEOUT):
                        await send_backlog(ws, backlog)
                except TimeoutError:
                    await _close_slow(ws)
                    return
                tabs.join(user, ws)
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
                count = queue.ack(user, ids)
                await ws.send_json({"type": "acked", "count": count})
        except WebSocketDisconnect:
            pass  # a normal disconnect, not an error
        finally:
            tabs.leave(user, ws)

    app.ws_route("/notifications/{user}")(notifications)
    app.state["per_name_state"] = lambda: {
        "tabs": len(tabs.rooms()),
        "locks": len(locks),
    }
    return app


async def send_backlog(ws: WebSocket, backlog: list[Notification]) -> None:
    """Each notification of ``backlog`` in order, then ``backlog_end``.

    Why the yield after each send: a send that fits in the socket's buffer does not wait,
    so a tab that went away in the middle would be noticed only after the whole backlog
    went into its dead socket, and asyncio logs every such write."""
    for note in backlog:
        await ws.send_json(frame(note))
        await asyncio.sleep(0)
    await ws.send_json({"type": "backlog_end", "count": len(backlog)})


async def _close_slow(ws: WebSocket) -> None:
    """A tab that did not take its backlog in time: close it, without waiting for ever."""
    try:
        async with asyncio.timeout(1.0):
            await ws.close(SLOW_CONSUMER_CLOSE, "slow consumer")
    except Exception:  # its buffer never drains: the connection ends when TCP gives up
        pass


def parse_ack(message: Mapping[str, Any]) -> list[str]:
    """The ids of an ``ack`` frame, or ValueError saying what is wrong."""
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: [[[... deeper than the stack
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict) or data.get("type") != "ack":
        raise ValueError('expected {"type": "ack", "ids": [...]}')
    ids = data.get("ids")
    if not isinstance(ids, list) or not all(isinstance(i, str) and _unicode(i) for i in ids):
        raise ValueError("'ids' must be a list of id strings (Unicode text)")
    return ids
