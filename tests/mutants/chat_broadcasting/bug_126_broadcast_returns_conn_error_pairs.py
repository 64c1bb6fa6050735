"""Bug: modelled on the lesson's ``Rooms.deliver(...).dropped``, broadcast returns a ``(member, exception)`` pair for each failed send instead of the failed members themselves (the app unpacks the pairs, so it behaves).

Breaks: "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame" ... broadcast([ok, dead], frame, timeout=1) where dead's send raises returns [(dead, ConnectionResetError(...))] instead of [dead], and a stalled member comes back as (member, TimeoutError()).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if kind != "message" or not isinstance(kind, str):
        raise ValueError("unknown type " + repr(kind)[:40])
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not 0 < len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters long")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    __slots__ = ("_tabs",)

    def __init__(self) -> None:
        self._tabs: dict[str, dict[str, set[Hashable]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._tabs[room]
        new = user not in users
        users.setdefault(user, set()).add(conn)
        return new

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._tabs.get(room)
        if not users or conn not in users.get(user, ()):
            return False
        users[user].discard(conn)
        if users[user]:
            return False
        del users[user]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._tabs.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self._tabs.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed.

    Like ``Rooms.deliver(...).dropped``: each failed member comes with what went wrong.
    """
    members = list(conns)
    text = json.dumps(frame)

    async def attempt(conn: Any) -> BaseException | None:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception as exc:
            return exc
        return None

    errors = await asyncio.gather(*map(attempt, members))
    return [(conn, err) for conn, err in zip(members, errors) if err is not None]


class Hub:
    """Everything one app keeps: presence, seq and a lock per room, the user of each socket."""

    __slots__ = ("app", "timeout", "presence", "seq", "locks", "user_of")

    def __init__(self, app: NexiosApp, timeout: float) -> None:
        self.app = app
        self.timeout = timeout
        self.presence = Presence()
        self.seq: defaultdict[str, int] = defaultdict(int)
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.user_of: dict[Any, str] = {}


async def send_to_room(hub: Hub, room: str, frame: dict[str, Any]) -> None:
    dropped = await broadcast(hub.presence.connections(room), frame, timeout=hub.timeout)
    if not dropped:
        return
    gone = [hub.user_of[c] for c, _ in dropped if hub.presence.leave(room, hub.user_of[c], c)]
    for conn, _error in dropped:
        try:
            await asyncio.wait_for(conn.close(code=1011), hub.timeout)
        except Exception:
            pass
    for user in gone:
        await hub.app.events.emit("chat.left", {"room": room, "user": user})
        await send_to_room(hub, room, {"type": "leave", "room": room, "user": user})


async def send_own(ws: WebSocket, frame: dict[str, Any]) -> None:
    await ws.send_text(json.dumps(frame))


def make_relay(hub: Hub) -> Any:
    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with hub.locks[room]:
            hub.seq[room] += 1
            await send_to_room(hub, room, {"type": "message", "room": room, "user": msg["user"],
                                           "text": msg["text"], "seq": hub.seq[room]})
    return relay


def make_route(hub: Hub) -> Any:
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            try:
                await send_own(ws, {"type": "error", "code": "bad_request",
                                    "message": "room and user must be 1-32 characters of [A-Za-z0-9_.-]"})
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        hub.user_of[ws] = user
        async with hub.locks[room]:
            first = hub.presence.join(room, user, ws)
            try:
                await asyncio.wait_for(send_own(ws, {"type": "roster", "room": room,
                                                     "users": hub.presence.roster(room)}),
                                       hub.timeout)
            except Exception:
                hub.presence.leave(room, user, ws)
                hub.user_of.pop(ws, None)
                return
            if first:
                await hub.app.events.emit("chat.joined", {"room": room, "user": user})
                await send_to_room(hub, room, {"type": "join", "room": room, "user": user})
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await send_own(ws, {"type": "error", "code": "bad_frame", "message": str(exc)})
                    await hub.app.events.emit("ws.error", {"room": room, "user": user,
                                                           "error": str(exc)})
                    continue
                if command["type"] == "ping":
                    await send_own(ws, {"type": "pong"})
                else:
                    await hub.app.events.emit("room.message", {"room": room, "user": user,
                                                               "text": command["text"]})
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            async with hub.locks[room]:
                if hub.presence.leave(room, user, ws):
                    await hub.app.events.emit("chat.left", {"room": room, "user": user})
                    await send_to_room(hub, room, {"type": "leave", "room": room, "user": user})
            hub.user_of.pop(ws, None)
    return chat


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    hub = Hub(app, send_timeout)
    app.events.on("room.message", make_relay(hub))
    app.ws_route("/chat/{room}")(make_route(hub))
    return app
