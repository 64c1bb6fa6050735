"""Bug: parse_frame returns the whole validated object and the route spreads its fields (all but type) after room and user into room.message, so a frame with its own "user" or "room" field spoofs the sender or reaches another room, and any extra field lands in the payload.

Breaks: "Fields of a frame other than `type` and `text` are ignored." (and room.message's payload `{"room": R, "user": U, "text": T}`).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """A str of 1 to 32 characters, each in the 64-character ASCII set."""
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 32
        and all(ch in ALLOWED for ch in value)
    )


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one ASGI receive message into a command, or raise ValueError."""
    if message.get("text") is None:
        raise ValueError("binary frames are not part of the protocol")
    try:
        data = json.loads(message["text"])
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got a {type(data).__name__}")
    kind = data.get("type", None)
    if not isinstance(kind, str):
        if "type" in data:
            raise ValueError(f"type must be a string, got a {type(kind).__name__}")
        raise ValueError("the type field is missing")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown type {repr(kind[:20])}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string" if "text" in data else "text is missing")
    if text == "" or len(text) > MAX_TEXT:
        raise ValueError(f"text must be 1-{MAX_TEXT} characters, not {len(text)}")
    return data


class Presence:
    """room -> user -> list of that user's open connections (no duplicates)."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, list[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        tabs = users.get(user)
        if tabs is None:
            users[user] = [conn]
            return True
        if conn not in tabs:
            tabs.append(conn)
        return False

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.get(room, {}).get(user)
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
        if tabs:
            return False
        users = self._rooms[room]
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send frame to a copy of conns concurrently; return the members that failed."""
    members = list(conns)
    text = json.dumps(frame)
    failed: list[Any] = []

    async def guarded(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
        except Exception:
            failed.append(conn)

    async with asyncio.TaskGroup() as group:
        for conn in members:
            group.create_task(guarded(conn))
    return failed


class Room:
    """One room's worker: runs enter, message and leave operations one at a time."""

    def __init__(self, name: str, hub: "Hub") -> None:
        self.name = name
        self.hub = hub
        self.seq = 0
        self.queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
        self.worker = asyncio.get_running_loop().create_task(self.run())

    async def submit(self, *op: Any) -> Any:
        done = asyncio.get_running_loop().create_future()
        await self.queue.put((done, *op))
        return await done

    async def run(self) -> None:
        while True:
            done, kind, *args = await self.queue.get()
            try:
                result = await getattr(self, "op_" + kind)(*args)
            except Exception as exc:  # never let one operation kill the room
                result = exc
            if not done.done():
                done.set_result(result)

    async def send_all(self, frame: dict[str, Any]) -> None:
        hub = self.hub
        members = hub.presence.connections(self.name)
        for conn in await broadcast(members, frame, timeout=hub.send_timeout):
            hub.close_dropped(conn)
            await self.op_leave(conn)

    async def op_enter(self, ws: Any, user: str) -> bool:
        hub = self.hub
        users = sorted({*hub.presence.roster(self.name), user})
        roster = json.dumps({"type": "roster", "room": self.name, "users": users})
        try:
            await asyncio.wait_for(ws.send_text(roster), hub.send_timeout)
        except Exception:
            return False
        hub.owner[ws] = user
        if hub.presence.join(self.name, user, ws):
            await hub.events.emit("chat.joined", {"room": self.name, "user": user})
            await self.send_all({"type": "join", "room": self.name, "user": user})
        return ws in hub.owner

    async def op_message(self, user: str, text: str) -> None:
        self.seq += 1
        await self.send_all(
            {"type": "message", "room": self.name, "user": user, "text": text, "seq": self.seq}
        )

    async def op_leave(self, ws: Any) -> None:
        hub = self.hub
        user = hub.owner.pop(ws, None)
        if user is None or not hub.presence.leave(self.name, user, ws):
            return
        await hub.events.emit("chat.left", {"room": self.name, "user": user})
        await self.send_all({"type": "leave", "room": self.name, "user": user})


class Hub:
    """Everything one app shares: the bus, presence, rooms and who owns each socket."""

    def __init__(self, events: Any, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.owner: dict[Any, str] = {}
        self.background: set[asyncio.Task[None]] = set()

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room(name, self)
        return self.rooms[name]

    def close_dropped(self, ws: Any) -> None:
        async def close() -> None:
            try:
                await asyncio.wait_for(ws.close(code=1011), self.send_timeout)
            except Exception:
                pass

        task = asyncio.get_running_loop().create_task(close())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def on_message(self, payload: dict[str, Any]) -> None:
        await self.room(payload["room"]).submit("message", payload["user"], payload["text"])

    async def reply(self, ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), self.send_timeout)
        except Exception:
            return False
        return True

    async def connection(self, ws: WebSocket) -> None:
        await ws.accept()
        room_name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for label, value in (("room", room_name), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_text(json.dumps({
                        "type": "error",
                        "code": "bad_request",
                        "message": f"{label} is missing or not 1-32 of [A-Za-z0-9_.-]",
                    }))
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        room = self.room(room_name)
        try:
            if not await room.submit("enter", ws, user):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect" or ws not in self.owner:
                    return
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    if not await self.reply(
                        ws, {"type": "error", "code": "bad_frame", "message": str(exc)}
                    ):
                        return
                    await self.events.emit(
                        "ws.error", {"room": room_name, "user": user, "error": str(exc)}
                    )
                    continue
                if command["type"] == "ping":
                    if not await self.reply(ws, {"type": "pong"}):
                        return
                else:
                    await self.events.emit(
                        "room.message",
                        {"room": room_name, "user": user, **{k: v for k, v in command.items() if k != "type"}},
                    )
        except WebSocketDisconnect:
            pass
        finally:
            await room.submit("leave", ws)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """The app: day25's bus as app.events, one listener, the /chat/{room} route."""
    app = NexiosApp()
    day25.install(app)
    hub = Hub(app.events, send_timeout)
    app.events.on("room.message", hub.on_message)

    async def chat(ws: WebSocket) -> None:
        await hub.connection(ws)

    app.add_ws_route(path="/chat/{room}", handler=chat)
    return app
