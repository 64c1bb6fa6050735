"""Style: a Hub class whose members are Tab objects, each with its own send lock; room frames go out under a per-room lock, pongs and errors under the tab's lock only, and every send is bounded with an ``asyncio.timeout`` block that starts after the lock is held.

Follows: "`join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on
1 -> 0 (and harmless twice)" (Presence keeps room -> user -> an insertion-ordered dict of
connections, drops empty users and rooms, and returns False for anything not there);
"serialise once, send to a snapshot of `conns` side by side, each send bounded by
`timeout`; return the members whose send failed or stalled, after everyone else got the
frame; a send that ran out of time is ended (cancelled) by then" (broadcast: one
json.dumps, a task per member in a TaskGroup, each inside asyncio.timeout, and the group
is awaited to the end); "The new connection's first frame is the roster ... (the joiner's
too, after its roster) receives `{"type": "join", "room": R, "user": U}`" and "A roster is the room as it is when it is
sent" (join, roster, join broadcast under the room lock); "`N` is a per-room counter
starting at 1 ... does **not** restart when the room empties" (Hub.seq never forgets a
room); "give **each send its own timeout** ... members dropped by one broadcast leave
**together**: forget every one of them before announcing any of their leaves" (Hub.fan_out
and Hub.drop, with a work list of leaves); "the server closes it (code 1011, if it still
can ...)" and "closing one dropped member that is already gone does not keep the others
from being closed" (one guarded close task per tab); "the time a frame waits behind that
member's earlier frames is not part of its send" (the timeout starts inside the tab's
lock); "the sender gets `{"type": "error", "code": "bad_frame", ...}`; the app emits
`ws.error` ...; the connection **stays open**"; "A normal disconnect ... is a leave, **not**
an error" and "A tab can be gone before its roster is sent ... (no later roster lists it)";
"a dropped or closed member's later clean-up must not announce the leave twice" (Tab.dropped,
and Presence.leave returning False).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _quote(value: Any) -> str:
    if isinstance(value, str):
        return repr(value[:30]) + ("..." if len(value) > 30 else "")
    return "a " + type(value).__name__


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frame (send JSON as a text frame)")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"not a JSON object but {_quote(data)}")
    if "type" not in data:
        raise ValueError("no type")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"unknown type {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if "text" not in data:
        raise ValueError("a message without text")
    if not isinstance(text, str):
        raise ValueError(f"text is {_quote(text)}, not a string")
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"text must be 1 to {MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, dict[Hashable, None]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        new = user not in users
        users.setdefault(user, {})[conn] = None
        return new

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room, {})
        tabs = users.get(user, {})
        if conn not in tabs:
            return False
        del tabs[conn]
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = [*conns]
    text = json.dumps(frame)
    failed: set[int] = set()

    async def one(index: int, conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except (Exception, asyncio.CancelledError):  # raised, or stalled past timeout
            failed.add(index)

    async with asyncio.TaskGroup() as group:
        for index, conn in enumerate(members):
            group.create_task(one(index, conn))
    return [conn for index, conn in enumerate(members) if index in failed]


class Tab:
    """One open WebSocket in one room; its lock keeps its own frames one at a time."""

    __slots__ = ("dropped", "lock", "room", "user", "ws")

    def __init__(self, ws: WebSocket, room: str, user: str) -> None:
        self.ws, self.room, self.user = ws, room, user
        self.lock = asyncio.Lock()
        self.dropped = False


class Hub:
    def __init__(self, bus: day25.EventBus, send_timeout: float) -> None:
        self.bus, self.send_timeout = bus, send_timeout
        self.presence = Presence()
        self.room_locks: dict[str, asyncio.Lock] = {}
        self.seq: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def room_lock(self, room: str) -> asyncio.Lock:
        return self.room_locks.setdefault(room, asyncio.Lock())

    async def send(self, tab: Tab, text: str) -> bool:
        """One frame to one tab: wait for the tab's earlier frames, then send_timeout."""
        async with tab.lock:
            try:
                async with asyncio.timeout(self.send_timeout):
                    await tab.ws.send_text(text)
                return True
            except Exception:
                return False

    async def fan_out(self, room: str, frame: dict[str, Any]) -> None:
        """With the room lock held: send to the room, drop who failed, announce their leaves."""
        pending = [frame]
        while pending:
            text = json.dumps(pending.pop(0))
            tabs: list[Tab] = self.presence.connections(room)  # type: ignore[assignment]
            results = await asyncio.gather(*(self.send(tab, text) for tab in tabs))
            for user in self.drop(room, [t for t, ok in zip(tabs, results) if not ok]):
                await self.bus.emit("chat.left", {"room": room, "user": user})
                pending.append({"type": "leave", "room": room, "user": user})

    def drop(self, room: str, tabs: list[Tab]) -> list[str]:
        """Forget every tab first, then close each one (1011); the users who left."""
        left = [tab.user for tab in tabs if self.presence.leave(room, tab.user, tab)]
        for tab in tabs:
            tab.dropped = True
            task = asyncio.create_task(self.close(tab))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return left

    async def close(self, tab: Tab) -> None:
        try:
            async with asyncio.timeout(self.send_timeout):
                await tab.ws.close(1011)
        except Exception:
            pass  # already gone

    async def answer(self, tab: Tab, frame: dict[str, Any]) -> bool:
        """A pong or an error for this tab alone; a tab that cannot take it is dropped."""
        if tab.dropped:
            return False
        if await self.send(tab, json.dumps(frame)):
            return True
        async with self.room_lock(tab.room):
            if not tab.dropped:
                for user in self.drop(tab.room, [tab]):
                    await self.bus.emit("chat.left", {"room": tab.room, "user": user})
                    await self.fan_out(tab.room, {"type": "leave", "room": tab.room, "user": user})
        return False

    async def relay(self, payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with self.room_lock(room):
            self.seq[room] = number = self.seq.get(room, 0) + 1
            await self.fan_out(room, {"type": "message", "room": room, "user": payload["user"],
                                      "text": payload["text"], "seq": number})

    async def arrive(self, tab: Tab) -> bool:
        async with self.room_lock(tab.room):
            first = self.presence.join(tab.room, tab.user, tab)
            roster = {"type": "roster", "room": tab.room, "users": self.presence.roster(tab.room)}
            if not await self.send(tab, json.dumps(roster)):
                self.presence.leave(tab.room, tab.user, tab)  # gone before its roster
                tab.dropped = True
                return False
            if first:
                await self.bus.emit("chat.joined", {"room": tab.room, "user": tab.user})
                await self.fan_out(tab.room, {"type": "join", "room": tab.room, "user": tab.user})
            return not tab.dropped

    async def depart(self, tab: Tab) -> None:
        async with self.room_lock(tab.room):
            if self.presence.leave(tab.room, tab.user, tab):
                await self.bus.emit("chat.left", {"room": tab.room, "user": tab.user})
                await self.fan_out(tab.room, {"type": "leave", "room": tab.room, "user": tab.user})

    async def session(self, tab: Tab) -> None:
        while not tab.dropped:
            message = await tab.ws.receive()
            if message["type"] == "websocket.disconnect" or tab.dropped:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                error = str(exc)
                if not await self.answer(tab, {"type": "error", "code": "bad_frame",
                                               "message": error}):
                    return
                await self.bus.emit("ws.error", {"room": tab.room, "user": tab.user,
                                                 "error": error})
                continue
            if command["type"] == "ping":
                if not await self.answer(tab, {"type": "pong"}):
                    return
            else:
                await self.bus.emit("room.message", {"room": tab.room, "user": tab.user,
                                                     "text": command["text"]})

    async def endpoint(self, ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            which = "room" if not valid_name(room) else "user"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"missing or invalid {which}: 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        tab = Tab(ws, room, user)
        try:
            if await self.arrive(tab):
                await self.session(tab)
        except Exception:
            pass  # died without a closing handshake: a leave, like a close
        finally:
            await self.depart(tab)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    hub = Hub(day25.install(app), send_timeout)
    app.events.on("room.message", hub.relay)
    app.ws_route("/chat/{room}")(hub.endpoint)
    return app
