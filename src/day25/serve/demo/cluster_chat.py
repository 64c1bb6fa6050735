"""The demo chat on a broker: exercise 3's protocol, one chat across several nodes.

``day25 serve --broker redis://...`` runs this instead of the one-process chat
(the demo chat module hands over to it). The protocol is the same, frame for
frame; what changes is where the shared parts live:

* **messages**: the route publishes ``room.message`` on the
  :class:`~day25.realtime.EventRelay`; every node (this one too) gets it back from
  the stream with the room's ``seq`` (one counter per room in Redis) and broadcasts
  it to its own members of the room. Every member on every node sees one order.
* **presence**: :class:`~day25.realtime.SharedPresence` decides when a user joins or
  leaves across all nodes; a dead node's users are announced as left by the others.
* **joining**: a connection is tracked in Redis, which announces it on the stream
  with the roster at that point; when this node reads that entry it starts keeping
  the room's events for the connection (:class:`~day25.realtime.Joining`), and the
  route sends the roster, then what was kept, then lets it in. The roster, the
  connection's own ``join`` and every later event arrive in stream order.
* **told**: per room with members here, who this node's members were told is in it.
  A Redis restarted without persistence forgets every room's users, and each node
  writing its own back makes Redis announce them as joining; members who never saw
  them leave are not told they joined (nor of a leave of someone they were never
  told of). The page shows what a server says, so a student's server that announces
  a second tab as a join is still seen doing it.

When Redis does not answer: a new connection gets an ``unavailable`` error frame and
close 1013 (try again later); a message gets an ``unavailable`` error frame and is
not sent (the connection stays); the relay and the heartbeat reconnect by themselves.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from types import ModuleType
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25
from day25.realtime import (
    TOLD_CLIENTS,
    Broker,
    BrokerUnavailable,
    EventRelay,
    Joining,
    Rooms,
    SharedPresence,
    SlowConsumer,
)
from day25.realtime.rooms import frame_text
from day25.realtime.shared_presence import PRESENCE_JOIN, PRESENCE_LEAVE

__all__ = ["TRY_AGAIN_CLOSE", "create_app"]

logger = logging.getLogger("day25.serve.demo.cluster")

TRY_AGAIN_CLOSE = 1013
"""WebSocket close code "try again later": the broker did not answer."""
ADMIT_TIMEOUT = 5.0
"""Seconds a new connection waits for its own join to come back from the stream."""


def create_app(
    broker_url: str, protocol: ModuleType, *, presence_ttl: float = 5.0, prefix: str = "day25"
) -> NexiosApp:
    """The chat of ``protocol`` (the demo chat module next to this one, which hands over
    to this one: its frame parsing and names) over the broker at ``broker_url``."""
    parse_frame = protocol.parse_frame
    valid_name = protocol.valid_name
    NAME_RULE, BAD_REQUEST_CLOSE = protocol.NAME_RULE, protocol.BAD_REQUEST_CLOSE
    app = NexiosApp()
    events = day25.install(app)
    broker = Broker(broker_url, prefix=prefix)
    relay = EventRelay(broker, events, events={"room.message", PRESENCE_JOIN, PRESENCE_LEAVE},
                       stream="chat")
    presence = SharedPresence(broker, relay, space="chat", ttl=presence_ttl,
                              interval=min(1.0, presence_ttl / 3))
    rooms: Rooms[WebSocket] = Rooms(send_timeout=2.0)
    joining: Joining[WebSocket] = Joining(rooms)
    arriving: dict[str, tuple[WebSocket, asyncio.Future[list[str]]]] = {}  # conn id -> ...
    told: dict[str, set[str]] = {}  # room -> who its members here were told is in it

    async def on_message(message: dict[str, Any]) -> None:
        await joining.broadcast(message["room"], {"type": "message", **message})

    async def on_join(entry: dict[str, Any]) -> None:
        room, user = entry["room"], entry["user"]
        mine = arriving.pop(entry["conn"], None) if entry["node"] == broker.node else None
        news = user not in told.get(room, ())
        if mine is not None:
            ws, admitted = mine
            joining.start(room, ws)  # from this point of the stream on, keep its events
            if not admitted.done():
                admitted.set_result(list(entry["roster"]))
        if room in told or mine is not None:  # the roster here is the truth at this point
            told.setdefault(room, set()).update(entry["roster"])
        if entry["first"] and news:
            await events.emit("chat.joined", {"room": room, "user": user})
            await joining.broadcast(room, {"type": "join", "room": room, "user": user})

    async def on_leave(entry: dict[str, Any]) -> None:
        room, user = entry["room"], entry["user"]
        if room in told and user not in told[room]:
            return  # its members here were never told this user was in it
        told.get(room, set()).discard(user)
        await events.emit("chat.left", {"room": room, "user": user})
        await joining.broadcast(room, {"type": "leave", "room": room, "user": user})

    events.on("room.message", on_message)
    events.on(PRESENCE_JOIN, on_join)
    events.on(PRESENCE_LEAVE, on_leave)

    async def refuse(ws: WebSocket, why: str, error: BaseException) -> None:
        logger.warning("a chat connection was refused: %s", error or type(error).__name__)
        await ws.send_json({"type": "error", "code": "unavailable", "message": why})
        await ws.close(TRY_AGAIN_CLOSE)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            what = "the room name" if not valid_name(room) else "?user="
            await ws.send_json(
                {"type": "error", "code": "bad_request", "message": f"{what} must be {NAME_RULE}"}
            )
            await ws.close(BAD_REQUEST_CLOSE)
            return
        assert isinstance(room, str) and isinstance(user, str)
        conn = secrets.token_hex(8)
        admitted: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        arriving[conn] = (ws, admitted)
        tracked = False
        try:
            try:
                await presence.track(room, user, conn)
                tracked = True
                roster = await asyncio.wait_for(admitted, ADMIT_TIMEOUT)
            except (BrokerUnavailable, TimeoutError) as exc:
                why = f"{TOLD_CLIENTS}: try again in a moment"
                if isinstance(exc, TimeoutError):
                    why = (f"the broker (Redis) did not announce this connection within "
                           f"{ADMIT_TIMEOUT} s: try again")
                await refuse(ws, why, exc)
                return
            await ws.send_json({"type": "roster", "room": room, "users": roster})
            await joining.finish(room, ws, lambda frame: ws.send_text(frame_text(frame)))
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                    continue
                payload = {"room": room, "user": user, "text": command["text"]}
                try:
                    await relay.publish("room.message", room, payload, seq=True)
                except BrokerUnavailable as exc:
                    logger.warning("a chat message was not sent: %s", exc)
                    await ws.send_json({"type": "error", "code": "unavailable", "message":
                                        f"the message was not sent: {TOLD_CLIENTS}; try again"})
        except (WebSocketDisconnect, SlowConsumer):
            pass  # a normal leave; a joiner that fell behind just goes
        finally:
            arriving.pop(conn, None)
            joining.cancel(room, ws)
            rooms.leave(room, ws)
            if not rooms.members(room) and not joining.waiting(room):
                told.pop(room, None)
            if tracked:
                await presence.untrack(room, user)

    async def startup() -> None:
        await relay.start()
        await presence.start()

    async def shutdown() -> None:
        await presence.stop()
        await relay.stop()
        await broker.aclose()

    app.on_startup(startup)
    app.on_shutdown(shutdown)
    app.ws_route("/chat/{room}")(chat)
    app.state["per_name_state"] = lambda: {
        "rooms": len(rooms.rooms()),
        "presence": len(presence.local),
        "arriving": len(arriving),
        "told": len(told),
    }
    app.state["broker"] = lambda: {
        "node": broker.node,
        "relay": "reading" if relay.healthy else "reconnecting",
        "presence_ttl": presence.ttl,
    }
    return app
