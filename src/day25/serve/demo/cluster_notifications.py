"""The demo notification service on a broker: exercise 4's protocol, one inbox per
user across several nodes.

``day25 serve --broker redis://...`` runs this instead of the one-process service
(the demo notification module hands over to it). The protocol is the same; what
changes is where the queue lives:

* **the queue** is an :class:`~day25.realtime.OfflineQueue` over a
  :class:`~day25.realtime.RedisStore`: the same rules as over SQLite (ids, ``seq``,
  TTL, cap, ack), in Redis, so any node serves any user's backlog.
* **live push**: storing a notification also announces it on the relay's stream, in
  the same Lua script, so every node reads it in ``seq`` order and pushes it to the
  user's tabs it holds.
* **backlog, then live**: a connecting tab first has this node keep the user's live
  notifications for it (:class:`~day25.realtime.Joining`), then reads the backlog,
  the user's last ``seq`` and the stream's last entry at one instant, sends the
  backlog and ``backlog_end``, waits until this node's relay has delivered up to that
  entry, then sends the kept notifications with a higher ``seq`` and joins. Nothing
  is missed and nothing comes twice, whichever node stored it.
* ``delivered`` in the reply counts the user's open tabs on every node
  (:class:`~day25.realtime.SharedPresence`, whose counts a dead node's reaping clears).

When Redis does not answer: ``POST /notifications`` gets **503** with a JSON error
and stores nothing; a tab gets an ``unavailable`` error frame and close 1013; an ack
gets an ``unavailable`` error frame (the notifications stay pending).
"""

from __future__ import annotations

import asyncio
import json
import logging
from types import ModuleType
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25 import EventPriority
from day25.realtime import (
    TOLD_CLIENTS,
    Broker,
    BrokerUnavailable,
    EventRelay,
    Joining,
    OfflineQueue,
    RedisStore,
    Rooms,
    SharedPresence,
    SlowConsumer,
)

__all__ = ["NOTIFICATION_STORED", "create_app"]

NOTIFICATION_STORED = "notification.stored"
"""The relayed event: a notification was stored (its frame's fields, with ``seq``)."""
TRY_AGAIN_CLOSE = 1013
logger = logging.getLogger("day25.serve.demo.cluster")
CATCH_UP_TIMEOUT = 5.0
"""Seconds a new tab waits for this node to deliver what was announced before its backlog."""


def create_app(
    broker_url: str,
    protocol: ModuleType,
    *,
    ttl_seconds: float = 86400.0,
    max_per_user: int = 100,
    presence_ttl: float = 5.0,
    prefix: str = "day25",
) -> NexiosApp:
    """The service of ``protocol`` (the demo notification module next to this one: its
    validation and frames) over the broker at ``broker_url``."""
    validate, parse_ack, close_slow = protocol.validate, protocol.parse_ack, protocol._close_slow
    name, name_rule = protocol.NAME, protocol.NAME_RULE
    app = NexiosApp()
    events = day25.install(app)
    broker = Broker(broker_url, prefix=prefix)
    relay = EventRelay(broker, events, events={NOTIFICATION_STORED}, stream="inbox")
    store = RedisStore(broker, announce=relay.announcement(NOTIFICATION_STORED))
    queue = OfflineQueue(store, ttl_seconds=ttl_seconds, max_per_user=max_per_user)
    tabs_here = SharedPresence(broker, space="tabs", ttl=presence_ttl,
                               interval=min(1.0, presence_ttl / 3))
    tabs: Rooms[WebSocket] = Rooms(send_timeout=2.0)  # one "room" per user: their tabs here
    joining: Joining[WebSocket] = Joining(tabs)
    audited = 0

    def enrich(notice: dict[str, Any]) -> None:
        notice.update(validate(notice))

    async def store_it(notice: dict[str, Any]) -> None:
        user = notice["user"]
        payload = {k: notice[k] for k in ("title", "body", "level")}
        note = queue.push(user, payload)  # announced to every node in the same step
        notice.update(id=note.id, seq=note.seq)
        notice["delivered"] = await tabs_here.connection_count(user, user)

    def audit_it(notice: dict[str, Any]) -> None:
        nonlocal audited
        if "id" not in notice:
            return  # not stored (Redis away): the store's error is in the log already
        audited += 1
        protocol.audit_log.info("notification %s #%s for %s", notice["id"], notice["seq"],
                                notice["user"])

    async def push_live(note: dict[str, Any]) -> None:
        await joining.broadcast(note["user"], {"type": "notification", **note})

    events.on("notification.created", enrich, priority=EventPriority.HIGH)
    events.on("notification.created", store_it, priority=EventPriority.MEDIUM)
    events.on("notification.created", audit_it, priority=EventPriority.LOW)
    events.on(NOTIFICATION_STORED, push_live)

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
        down = [e for e in result.errors if isinstance(e, BrokerUnavailable)]
        if down and "id" not in notice:  # the bus logged it; day25 serve shows a fixed 503
            return res.json({"error": f"the notification was not stored: {down[0]}"},
                            status_code=503)
        if not result.ok and "id" not in notice:
            return res.json({"error": "the notification could not be stored"}, status_code=500)
        reply = {"id": notice["id"], "seq": notice["seq"],
                 "delivered": notice.get("delivered", 0)}
        return res.json(reply, status_code=201)

    async def unavailable(ws: WebSocket, told: str, error: object, close: bool) -> None:
        logger.warning("%s: %s", told, error)  # the details, for the server's log only
        await ws.send_json({"type": "error", "code": "unavailable", "message": told})
        if close:
            await ws.close(TRY_AGAIN_CLOSE)

    async def notifications(ws: WebSocket) -> None:
        await ws.accept()
        user = ws.path_params.get("user")
        if not isinstance(user, str) or name.fullmatch(user) is None:
            await ws.send_json(
                {"type": "error", "code": "bad_request", "message": f"the user must be {name_rule}"}
            )
            await ws.close(protocol.BAD_REQUEST_CLOSE)
            return
        joining.start(user, ws)  # from here on, this node keeps the user's live ones for it
        tracked = False
        try:
            try:
                await tabs_here.track(user, user)
                tracked = True
                backlog, last_seq, position = store.snapshot(user, queue.clock())
            except BrokerUnavailable as exc:
                await unavailable(ws, f"{TOLD_CLIENTS}: try again in a moment", exc, close=True)
                return
            try:
                async with asyncio.timeout(protocol.BACKLOG_TIMEOUT):
                    await protocol.send_backlog(ws, backlog)
            except TimeoutError:
                await close_slow(ws)
                return
            try:  # older ones must not arrive after joining: wait until they went by
                async with asyncio.timeout(CATCH_UP_TIMEOUT):
                    await relay.caught_up(position)
            except TimeoutError:
                await unavailable(ws, "live notifications are not arriving from the broker "
                                  f"(Redis) within {CATCH_UP_TIMEOUT} s: try again",
                                  "a new tab's catch-up timed out", close=True)
                return
            try:
                async with asyncio.timeout(protocol.BACKLOG_TIMEOUT):
                    await joining.finish(user, ws, ws.send_json,
                                         keep=lambda frame: frame["seq"] > last_seq)
            except (TimeoutError, SlowConsumer):
                await close_slow(ws)
                return
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
                try:
                    count = queue.ack(user, ids)
                except BrokerUnavailable as exc:
                    await unavailable(ws, f"not acknowledged: {TOLD_CLIENTS}; try again", exc,
                                      close=False)
                    continue
                await ws.send_json({"type": "acked", "count": count})
        except WebSocketDisconnect:
            pass
        finally:
            joining.cancel(user, ws)
            tabs.leave(user, ws)
            if tracked:
                await tabs_here.untrack(user, user)

    async def startup() -> None:
        await relay.start()
        await tabs_here.start()
        queue.purge_expired()

    async def shutdown() -> None:
        await tabs_here.stop()
        await relay.stop()
        await broker.aclose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    app.ws_route("/notifications/{user}")(notifications)
    app.state["per_name_state"] = lambda: {"tabs": len(tabs.rooms())}
    return app
