"""Bug: a ping that carries a string "text" is parsed as {"type": "ping", "text": T} and answered with {"type": "pong", "text": T}, echoing its payload like a WebSocket control frame.

Breaks: "`{"type": "ping"}` is answered with `{"type": "pong"}`." and "Fields of a frame other than `type` and `text` are ignored." (parse_frame: "Return ``{"type": "ping"}`` or ``{"type": "message", "text": T}``") ... {"type": "ping", "text": "t0"} gets {"type": "pong", "text": "t0"} instead of {"type": "pong"}, and parse_frame returns a ping dict with a text key.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections import defaultdict, deque
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frame")
    try:
        obj = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if type(obj) is not dict:
        raise ValueError(f"not a JSON object but {type(obj).__name__}")
    kind = obj.get("type")
    if kind is None:
        raise ValueError("missing type")
    if not (isinstance(kind, str) and kind in KINDS):
        shown = repr(kind[:20]) if isinstance(kind, str) else type(kind).__name__
        raise ValueError(f"unknown type {shown}")
    if kind == "ping":
        # a ping's payload comes back in its pong, as RFC 6455 (5.5.3) has it for control frames
        echo = obj.get("text")
        return {"type": "ping", "text": echo} if isinstance(echo, str) else {"type": "ping"}
    text = obj.get("text")
    if type(text) is not str:
        raise ValueError("text missing or not a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must have 1-{MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: (room, user) -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._tabs.setdefault((room, user), set())
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        tabs = self._tabs.get((room, user))
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        del self._tabs[room, user]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(user for (where, user) in self._tabs if where == room)

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [conn for (where, _), tabs in self._tabs.items() if where == room for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(conn.send_text(text)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    finally:
        for task in tasks:
            if not task.done():
                task.cancel()
    if pending:
        await asyncio.wait(pending)  # let the cancellations finish
    return [conn for conn, task in zip(members, tasks)
            if task in pending or task.cancelled() or task.exception() is not None]


# -- the functional core: what should happen, as data -------------------------------------
# ("send", conn, frame)      one frame to one connection (its own timeout)
# ("broadcast", room, frame) to every connection of the room; failures become a DROP
# ("emit", event, payload)   on app.events
# ("join", room, user, conn) / ("leave", room, user, conn): presence, which may add effects

def connect_effects(room: str, user: str, conn: Any, roster: list[str]) -> list[tuple]:
    users = sorted({*roster, user})
    return [("send", conn, {"type": "roster", "room": room, "users": users}),
            ("join", room, user, conn)]


def arrived_effects(room: str, user: str) -> list[tuple]:
    frame = {"type": "join", "room": room, "user": user}
    return [("broadcast", room, frame), ("emit", "chat.joined", {"room": room, "user": user})]


def departed_effects(room: str, user: str) -> list[tuple]:
    frame = {"type": "leave", "room": room, "user": user}
    return [("broadcast", room, frame), ("emit", "chat.left", {"room": room, "user": user})]


def frame_effects(room: str, user: str, conn: Any, message: dict[str, Any]) -> list[tuple]:
    try:
        command = parse_frame(message)
    except ValueError as exc:
        return [("send", conn, {"type": "error", "code": "bad_frame", "message": str(exc)}),
                ("emit", "ws.error", {"room": room, "user": user, "error": str(exc)})]
    if command["type"] == "ping":
        return [("send", conn, {**command, "type": "pong"})]
    return [("emit", "room.message", {"room": room, "user": user, "text": command["text"]})]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    owner: dict[Any, str] = {}
    counters: defaultdict[str, itertools.count] = defaultdict(lambda: itertools.count(1))
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    closing: set[asyncio.Task[Any]] = set()

    async def close_dropped(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(1011), send_timeout)
        except Exception:
            pass

    def drop(room: str, failed: list[Any]) -> list[tuple]:
        """Forget every failed member first; their leaves come after, as effects."""
        leaves: list[tuple] = []
        for conn in failed:
            user = owner.pop(conn, None)
            if user is None:
                continue
            task = asyncio.ensure_future(close_dropped(conn))
            closing.add(task)
            task.add_done_callback(closing.discard)
            if presence.leave(room, user, conn):
                leaves.extend(departed_effects(room, user))
        return leaves

    async def run(effects: list[tuple]) -> bool:
        """Run effects in order; False if a direct send to a connection failed."""
        queue = deque(effects)
        ok = True
        while queue:
            effect = queue.popleft()
            match effect:
                case ("send", conn, frame):
                    if await broadcast([conn], frame, timeout=send_timeout):
                        ok = False
                        queue.clear()
                case ("broadcast", room, frame):
                    failed = await broadcast(presence.connections(room), frame,
                                             timeout=send_timeout)
                    queue.extend(drop(room, failed))
                case ("emit", event, payload):
                    await bus.emit(event, payload)
                case ("join", room, user, conn):
                    owner[conn] = user
                    if presence.join(room, user, conn):
                        queue.extendleft(reversed(arrived_effects(room, user)))
                case ("leave", room, user, conn):
                    if owner.pop(conn, None) is not None and presence.leave(room, user, conn):
                        queue.extendleft(reversed(departed_effects(room, user)))
        return ok

    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with locks[room]:
            frame = {"type": "message", "room": room, "user": payload["user"],
                     "text": payload["text"], "seq": next(counters[room])}
            await run([("broadcast", room, frame)])

    bus.on("room.message", relay)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        bad = [name for name, value in (("room", room), ("user", user)) if not valid_name(value)]
        if bad:
            message = " and ".join(bad) + " missing or not 1-32 characters of [A-Za-z0-9_.-]"
            await broadcast([ws], {"type": "error", "code": "bad_request", "message": message},
                            timeout=send_timeout)
            try:
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        async with locks[room]:
            if not await run(connect_effects(room, user, ws, presence.roster(room))):
                await close_dropped(ws)  # gone (or stalled) before its roster: never joined
                return
        try:
            while ws in owner:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                effects = frame_effects(room, user, ws, message)
                if effects[0][0] == "emit":
                    await run(effects)  # room.message: the listener takes the room's lock
                elif not await run(effects):
                    break
        except (WebSocketDisconnect, OSError, RuntimeError):
            pass
        finally:
            async with locks[room]:
                await run([("leave", room, user, ws)])

    return app
