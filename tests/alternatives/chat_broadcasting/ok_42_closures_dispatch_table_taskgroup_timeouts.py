"""Style: plain closures in create_app with a dispatch table of frame handlers, sockets themselves as presence connections (a side map tells whose they are), and a broadcast that runs each send in a TaskGroup under its own asyncio.timeout.

Follows: "`valid_name` [...] any other value (`None`, a number, a list, a dict) is `False`, never an exception" (type check, then an ASCII-only fullmatch); "`parse_frame` [...] else `ValueError("<what is wrong>")`, and never any other exception" (a chain of checks; ValueError and RecursionError from json.loads become one ValueError; an unhashable type is never looked up in a set); "room -> user -> that user's open connections: `join` True on 0 -> 1, `leave` True on 1 -> 0 (and harmless twice)"; "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled" (json.dumps once, a TaskGroup task per member each inside asyncio.timeout, every failure caught in its own task); "the joiner's too, after its roster" and "A roster is the room as it is when it is sent" (roster, join and broadcasts of a room all hold that room's lock); "`N` is a per-room counter starting at 1 [...] does not restart when the room empties" (a Counter that is never cleared); "a member that does not take the frame in time, or whose send raises, is dropped [...] closed (code 1011)" and "forget every one of them before announcing any of their leaves" (settle(): forget the whole batch, close it, announce, recurse on announcement failures); "the sender gets [...] bad_frame [...] the app emits ws.error [...] the connection stays open"; "`{"type": "ping"}` is answered with `{"type": "pong"}`"; "A normal disconnect [...] is a leave, not an error".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or a message command."""
    if not isinstance(message.get("text"), str):
        raise ValueError("expected a JSON text frame, got a binary one")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        raise ValueError("type must be \"message\" or \"ping\"")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must have 1 to {MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: defaultdict[str, dict[str, set[Hashable]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms[room]
        arrived = user not in users
        users.setdefault(user, set()).add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.get(room, {}).get(user)
        if not tabs or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        users = self._rooms[room]
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        out: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            out.extend(tabs)
        return out


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = list(conns)
    text = json.dumps(frame)
    failed = [False] * len(snapshot)

    async def send(i: int, conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:
            failed[i] = True

    async with asyncio.TaskGroup() as group:
        for i, conn in enumerate(snapshot):
            group.create_task(send(i, conn))
    return [conn for conn, bad in zip(snapshot, failed) if bad]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    owner: dict[WebSocket, str] = {}  # socket -> its user
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    seq: Counter[str] = Counter()

    async def shut(ws: WebSocket) -> None:
        try:
            async with asyncio.timeout(send_timeout):
                await ws.close(1011)
        except Exception:
            pass

    async def settle(room: str, failed: list[WebSocket]) -> None:
        if not failed:
            return
        departed = [owner[ws] for ws in failed if presence.leave(room, owner[ws], ws)]
        await asyncio.gather(*map(shut, failed))
        again: list[WebSocket] = []
        for user in departed:
            await bus.emit("chat.left", {"room": room, "user": user})
            again += await broadcast(presence.connections(room),
                                     {"type": "leave", "room": room, "user": user},
                                     timeout=send_timeout)
        await settle(room, again)

    async def send_all(room: str, frame: dict[str, Any]) -> None:
        await settle(room, await broadcast(presence.connections(room), frame,
                                           timeout=send_timeout))

    async def send_one(room: str, ws: WebSocket, frame: dict[str, Any]) -> None:
        async with locks[room]:
            await settle(room, await broadcast([ws], frame, timeout=send_timeout))

    async def relay(event: dict[str, Any]) -> None:
        room = event["room"]
        async with locks[room]:
            seq[room] += 1
            await send_all(room, {"type": "message", "room": room, "user": event["user"],
                                  "text": event["text"], "seq": seq[room]})

    bus.on("room.message", relay)

    async def on_ping(ws: WebSocket, room: str, user: str, command: dict[str, Any]) -> None:
        await send_one(room, ws, {"type": "pong"})

    async def on_message(ws: WebSocket, room: str, user: str, command: dict[str, Any]) -> None:
        await bus.emit("room.message", {"room": room, "user": user, "text": command["text"]})

    handlers: dict[str, Callable[..., Awaitable[None]]] = {"ping": on_ping, "message": on_message}

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for label, value in (("room", room), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_text(json.dumps({
                        "type": "error", "code": "bad_request",
                        "message": f"{label} must be 1-32 characters of [A-Za-z0-9_.-]"}))
                    await ws.close(BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        owner[ws] = user
        try:
            async with locks[room]:
                users = sorted(set(presence.roster(room)) | {user})
                if await broadcast([ws], {"type": "roster", "room": room, "users": users},
                                   timeout=send_timeout):
                    await shut(ws)
                    return
                if presence.join(room, user, ws):
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await send_all(room, {"type": "join", "room": room, "user": user})
            try:
                while (message := await ws.receive())["type"] != "websocket.disconnect":
                    try:
                        command = parse_frame(message)
                    except ValueError as exc:
                        await send_one(room, ws, {"type": "error", "code": "bad_frame",
                                                  "message": str(exc)})
                        await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                        continue
                    await handlers[command["type"]](ws, room, user, command)
            except WebSocketDisconnect:
                pass
            finally:
                async with locks[room]:
                    if presence.leave(room, user, ws):
                        await bus.emit("chat.left", {"room": room, "user": user})
                        await send_all(room, {"type": "leave", "room": room, "user": user})
        finally:
            owner.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app
