"""Style: one worker task per room reads an unbounded mailbox of joins, leaves and messages (an actor), so the room's order needs no lock; a sync room.message listener only posts to the mailbox.

Follows: "`N` is a per-room counter starting at 1, kept for as long as the server runs" (seqs dict, bumped by the room's worker); "Every member sees a room's frames in the same order" (one worker per room, FIFO mailbox, no bound); "A message is sent from the room as the sender is in it" (the sender's leave is posted after its message); "A roster is the room as it is when it is sent" (the roster is sent by the worker, between broadcasts); "send to a **snapshot**", "give **each send its own timeout**" (broadcast: a task per member, one asyncio.wait(timeout), pending cancelled); "members dropped by one broadcast leave **together**" (settle forgets all before announcing any, closes with 1011 under a timeout); "a dropped or closed member's later clean-up must not announce the leave twice" (Presence.leave returns False the second time).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import deque
from collections.abc import Hashable, Iterable
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
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ValueError(f"a frame must be a JSON object, not {type(data).__name__}")
    kind = data.get("type")
    if kind == "ping" and isinstance(kind, str):
        return {"type": "ping"}
    if kind != "message" or not isinstance(kind, str):
        if "type" not in data:
            raise ValueError("the frame has no type")
        raise ValueError(f"unknown type {repr(kind)[:40]}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string")
    if not text:
        raise ValueError("text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.setdefault(room, {})
        tabs = users.setdefault(user, set())
        tabs.add(conn)
        return len(tabs) == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        if not users or user not in users or conn not in users[user]:
            return False
        tabs = users[user]
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        return [c for tabs in self._rooms.get(room, {}).values() for c in tabs]


async def _send_one(conn: Any, text: str) -> None:
    await conn.send_text(text)


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)
    tasks = [asyncio.ensure_future(_send_one(conn, text)) for conn in members]
    try:
        done, pending = await asyncio.wait(tasks, timeout=timeout)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    day25.install(app)
    events = app.events
    presence = Presence()
    owner: dict[Any, str] = {}
    seqs: dict[str, int] = {}

    async def close_all(conns: list[Any]) -> None:
        async def close(ws: Any) -> None:
            try:
                await asyncio.wait_for(ws.close(code=1011), send_timeout)
            except Exception:
                pass
        await asyncio.gather(*(close(ws) for ws in conns))

    async def settle(room: str, failed: list[Any]) -> None:
        """Drop every failed member, then announce the leaves (dropping whoever fails those)."""
        pending: deque[str] = deque()

        async def forget(conns: list[Any]) -> None:
            for ws in conns:
                user = owner.get(ws)
                if user is not None and presence.leave(room, user, ws):
                    pending.append(user)
            await close_all(conns)

        await forget(failed)
        while pending:
            user = pending.popleft()
            await events.emit("chat.left", {"room": room, "user": user})
            await forget(await broadcast(presence.connections(room),
                                         {"type": "leave", "room": room, "user": user},
                                         timeout=send_timeout))

    rooms: dict[str, Room] = {}

    def room_of(name: str) -> Room:
        room = rooms.get(name)
        if room is None:
            room = rooms[name] = Room(name)
        return room

    async def deliver(room: str, user: str, text: str) -> None:
        seqs[room] = seq = seqs.get(room, 0) + 1
        frame = {"type": "message", "room": room, "user": user, "text": text, "seq": seq}
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        await settle(room, failed)

    class Room:
        """One room's worker: joins, leaves and messages, one at a time, in arrival order."""

        def __init__(self, name: str) -> None:
            self.name = name
            self.mailbox: deque[tuple[str, Any, str, asyncio.Future[Any] | None]] = deque()
            self.wake = asyncio.Event()
            self.worker = asyncio.get_running_loop().create_task(self.run())

        def post(self, kind: str, first: Any, user: str,
                 done: asyncio.Future[Any] | None = None) -> None:
            self.mailbox.append((kind, first, user, done))
            self.wake.set()

        async def call(self, kind: str, ws: Any, user: str) -> Any:
            if self.worker.done():
                return None  # shutting down
            done = asyncio.get_running_loop().create_future()
            self.post(kind, ws, user, done)
            return await done

        async def run(self) -> None:
            try:
                await self.serve()
            finally:  # the server shuts down: nobody waits on a request forever
                for _, _, _, done in self.mailbox:
                    if done is not None and not done.done():
                        done.cancel()

        async def serve(self) -> None:
            while True:
                while not self.mailbox:
                    self.wake.clear()
                    await self.wake.wait()
                kind, first, user, done = self.mailbox.popleft()
                try:
                    if kind == "message":
                        result = await deliver(self.name, user, first)
                    elif kind == "join":
                        result = await enter(first, self.name, user)
                    else:
                        result = await depart(first, self.name, user)
                except Exception as exc:
                    if done is not None and not done.done():
                        done.set_exception(exc)
                    continue
                if done is not None and not done.done():
                    done.set_result(result)

    def on_message(payload: dict[str, Any]) -> None:
        room_of(payload["room"]).post("message", payload["text"], payload["user"])

    events.on("room.message", on_message)

    async def send_own(ws: WebSocket, frame: dict[str, Any]) -> bool:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(frame)), send_timeout)
            return True
        except Exception:
            return False

    async def enter(ws: WebSocket, room: str, user: str) -> bool:
        users = sorted({*presence.roster(room), user})
        if not await send_own(ws, {"type": "roster", "room": room, "users": users}):
            return False
        owner[ws] = user
        if presence.join(room, user, ws):
            await events.emit("chat.joined", {"room": room, "user": user})
            failed = await broadcast(presence.connections(room),
                                     {"type": "join", "room": room, "user": user},
                                     timeout=send_timeout)
            await settle(room, failed)
        return True

    async def depart(ws: WebSocket, room: str, user: str) -> None:
        if presence.leave(room, user, ws):
            await events.emit("chat.left", {"room": room, "user": user})
            failed = await broadcast(presence.connections(room),
                                     {"type": "leave", "room": room, "user": user},
                                     timeout=send_timeout)
            await settle(room, failed)

    async def drop_self(ws: WebSocket, room: str, user: str) -> None:
        await room_of(room).call("leave", ws, user)
        await close_all([ws])

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "room must be 1-32 characters of [A-Za-z0-9_.-]"
        elif not valid_name(user):
            problem = "user must be 1-32 characters of [A-Za-z0-9_.-]"
        if problem is not None:
            try:
                await ws.send_text(json.dumps(
                    {"type": "error", "code": "bad_request", "message": problem}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        if not await room_of(room).call("join", ws, user):
            return
        try:
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    if not await send_own(ws, {"type": "error", "code": "bad_frame",
                                               "message": error}):
                        await drop_self(ws, room, user)
                        return
                    await events.emit("ws.error", {"room": room, "user": user, "error": error})
                    continue
                if command["type"] == "ping":
                    if not await send_own(ws, {"type": "pong"}):
                        await drop_self(ws, room, user)
                        return
                    continue
                await events.emit("room.message",
                                  {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            await room_of(room).call("leave", ws, user)
            owner.pop(ws, None)

    return app
