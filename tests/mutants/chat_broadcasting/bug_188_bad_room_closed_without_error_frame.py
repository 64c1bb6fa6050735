"""Bug: an invalid room is refused with close code 4400 but without the `bad_request` error frame; only the user check sends it.

Breaks: "If `room` or `user` is missing or invalid, send `{"type": "error", "code": "bad_request", "message": "<what is wrong>"}` and close with code **4400**." ... connecting to `/chat/caf%C3%A9?user=ann` (room `café`) gets the close 4400 at once, with no {"type": "error", "code": "bad_request", ...} frame before it.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
DROPPED_CLOSE = 1011


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return type(value) is str and bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    if message.get("text") is None:
        raise ValueError("binary frame: only JSON text frames are accepted")
    try:
        data = json.loads(message["text"])
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError:
        raise ValueError("not JSON") from None
    if type(data) is not dict:
        raise ValueError("not a JSON object")
    kind = data.get("type")
    if kind is None and "type" not in data:
        raise ValueError("missing type")
    if not isinstance(kind, str):
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"text must be 1 to {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._tabs: dict[tuple[str, str], set[Hashable]] = {}
        self._users: dict[str, set[str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if tabs is None:
            self._tabs[key] = {conn}
            self._users.setdefault(room, set()).add(user)
            return True
        tabs.add(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        key = (room, user)
        tabs = self._tabs.get(key)
        if not tabs or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del self._tabs[key]
        users = self._users[room]
        users.discard(user)
        if not users:
            del self._users[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for user in self._users.get(room, ()) for conn in self._tabs[(room, user)]]


async def _timed_send(conn: Any, text: str, timeout: float) -> None:
    async with asyncio.timeout(timeout):
        await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = [*conns]
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(_timed_send(conn, text, timeout) for conn in snapshot), return_exceptions=True
    )
    return [conn for conn, outcome in zip(snapshot, outcomes)
            if isinstance(outcome, BaseException)]


class RoomHub:
    """One room of one app: its lock, its seq, and everything said in it."""

    def __init__(self, name: str, presence: Presence, events: Any,
                 owners: dict[Any, str], timeout: float) -> None:
        self.name = name
        self.presence = presence
        self.events = events
        self.owners = owners
        self.timeout = timeout
        self.lock = asyncio.Lock()
        self.seq = 0

    def _frame(self, kind: str, user: str) -> dict[str, Any]:
        return {"type": kind, "room": self.name, "user": user}

    async def _announce(self, frame: dict[str, Any]) -> None:
        batch = await broadcast(self.presence.connections(self.name), frame,
                                timeout=self.timeout)
        leaving: list[str] = []
        while batch or leaving:
            for ws in batch:
                user = self.owners.get(ws)
                if user is not None and self.presence.leave(self.name, user, ws):
                    leaving.append(user)
            await asyncio.gather(*(self._close(ws) for ws in batch))
            batch = []
            if leaving:
                user = leaving.pop(0)
                await self.events.emit("chat.left", {"room": self.name, "user": user})
                batch = await broadcast(self.presence.connections(self.name),
                                        self._frame("leave", user), timeout=self.timeout)

    @staticmethod
    async def _close_with(ws: Any, code: int) -> None:
        try:
            await ws.close(code)
        except Exception:
            pass

    @staticmethod
    async def _close(ws: Any) -> None:
        await RoomHub._close_with(ws, DROPPED_CLOSE)

    async def admit(self, ws: Any, user: str) -> bool:
        async with self.lock:
            arrived = self.presence.join(self.name, user, ws)
            try:
                await ws.send_text(json.dumps({"type": "roster", "room": self.name,
                                               "users": self.presence.roster(self.name)}))
            except Exception:
                self.presence.leave(self.name, user, ws)
                return False
            if arrived:
                await self.events.emit("chat.joined", {"room": self.name, "user": user})
                await self._announce(self._frame("join", user))
            return True

    async def say(self, user: str, text: str) -> None:
        async with self.lock:
            self.seq += 1
            await self._announce({"type": "message", "room": self.name, "user": user,
                                  "text": text, "seq": self.seq})

    async def depart(self, ws: Any, user: str) -> None:
        async with self.lock:
            if self.presence.leave(self.name, user, ws):
                await self.events.emit("chat.left", {"room": self.name, "user": user})
                await self._announce(self._frame("leave", user))


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    owners: dict[Any, str] = {}
    hubs: dict[str, RoomHub] = {}

    def hub(name: str) -> RoomHub:
        found = hubs.get(name)
        if found is None:
            found = hubs[name] = RoomHub(name, presence, events, owners, send_timeout)
        return found

    async def relay(payload: dict[str, Any]) -> None:
        await hub(payload["room"]).say(payload["user"], payload["text"])

    events.on("room.message", relay)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room):  # no such room: refuse outright
            await RoomHub._close_with(ws, BAD_REQUEST_CLOSE)
            return
        problem = None
        if not valid_name(user):
            problem = "missing or invalid user: 1-32 characters of [A-Za-z0-9_.-]"
        if problem is not None:
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": problem}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        here = hub(room)
        owners[ws] = user
        try:
            if not await here.admit(ws, user):
                return
            while True:
                message = await ws.receive()
                match message:
                    case {"type": "websocket.disconnect"}:
                        return
                    case _:
                        try:
                            command = parse_frame(message)
                        except ValueError as exc:
                            await ws.send_text(json.dumps({"type": "error", "code": "bad_frame",
                                                           "message": str(exc)}))
                            await events.emit("ws.error", {"room": room, "user": user,
                                                           "error": str(exc)})
                            continue
                        if command["type"] == "ping":
                            await ws.send_text(json.dumps({"type": "pong"}))
                        else:
                            await events.emit("room.message", {"room": room, "user": user,
                                                               "text": command["text"]})
        except WebSocketDisconnect:
            pass
        except Exception:  # a send to a socket that is gone, a receive after our close
            pass
        finally:
            await here.depart(ws, user)
            owners.pop(ws, None)

    app.ws_route("/chat/{room}")(chat)
    return app
