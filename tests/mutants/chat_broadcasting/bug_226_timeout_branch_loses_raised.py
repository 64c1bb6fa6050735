"""Breaks: "A member whose send raises, or does not finish within timeout seconds, is
returned". When the timeout fires, only the cancelled (stalled) sends are returned: a
member whose send already raised in the same broadcast is left out. Shows when one member
stalls and another is dead in one broadcast: only the stalled one is dropped; the dead one
stays a member, is sent the other's leave (a member being dropped) and only then leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import string
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")
_KINDS = ("message", "ping")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return (isinstance(value, str) and 1 <= len(value) <= 32
            and all(ch in _NAME_CHARS for ch in value))


def _decode(raw: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not valid JSON ({type(exc).__name__})") from None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError saying why."""
    raw = message.get("text")
    if not isinstance(raw, str):
        raise ValueError("binary frame: only JSON text frames are accepted")
    data = _decode(raw)
    if type(data) is not dict:
        raise ValueError("the frame is not a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"missing or unknown 'type': {repr(kind)[:32]}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if type(text) is not str:
        raise ValueError("a message needs a string 'text'")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"'text' must have 1 to {MAX_TEXT} characters, not {len(text)}")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    Kept as room -> {connection: user} with a Counter of tabs per user.
    """

    def __init__(self) -> None:
        self._owner: dict[str, dict[Hashable, str]] = {}
        self._tabs: dict[str, Counter[str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        owners = self._owner.setdefault(room, {})
        tabs = self._tabs.setdefault(room, Counter())
        if owners.get(conn) == user:
            return False
        owners[conn] = user
        tabs[user] += 1
        return tabs[user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        owners = self._owner.get(room)
        if owners is None or owners.get(conn, None) != user or conn not in owners:
            return False
        del owners[conn]
        tabs = self._tabs[room]
        tabs[user] -= 1
        if tabs[user] > 0:
            return False
        del tabs[user]
        if not owners:
            del self._owner[room]
            del self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._tabs.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return list(self._owner.get(room, {}))


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    snapshot = tuple(conns)
    text = json.dumps(frame)

    async def one(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(one(conn)) for conn in snapshot]
    if not tasks:
        return []
    try:
        async with asyncio.timeout(timeout):
            outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    except TimeoutError:
        # the stalled sends were cancelled by gather: those are the failed members
        return [conn for conn, task in zip(snapshot, tasks) if task.cancelled()]
    return [conn for conn, outcome in zip(snapshot, outcomes)
            if isinstance(outcome, BaseException)]


Job = Callable[[], Awaitable[Any]]


class RoomWorker:
    """Runs a room's jobs one at a time, in the order they were queued."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[tuple[Job, asyncio.Future[Any]]] = asyncio.Queue()
        self.seq = 0
        self.task: asyncio.Task[None] | None = None

    async def run(self, job: Job) -> Any:
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._work())
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((job, done))
        return await done

    async def _work(self) -> None:
        while True:
            job, done = await self.queue.get()
            try:
                result = await job()
            except BaseException as exc:  # handed to whoever queued the job
                if not done.done():
                    done.set_exception(exc)
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                if not done.done():
                    done.set_result(result)


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    workers: dict[str, RoomWorker] = {}
    names: dict[Any, str] = {}

    def worker(room: str) -> RoomWorker:
        return workers.setdefault(room, RoomWorker())

    async def shut(ws: Any) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(1011), send_timeout)

    async def post(room: str, frame: dict[str, Any]) -> None:
        room_worker = worker(room)

        async def job() -> tuple[list[Any], list[str]]:
            if frame["type"] == "message":
                room_worker.seq += 1
                frame["seq"] = room_worker.seq
            failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
            left = [names[ws] for ws in failed
                    if ws in names and presence.leave(room, names[ws], ws)]
            return failed, left

        failed, left = await room_worker.run(job)
        for user in left:
            await events.emit("chat.left", {"room": room, "user": user})
            await post(room, {"type": "leave", "room": room, "user": user})
        await asyncio.gather(*(shut(ws) for ws in failed))

    @events.on("room.message")
    async def on_message(payload: dict[str, Any]) -> None:
        await post(payload["room"], {"type": "message", "room": payload["room"],
                                     "user": payload["user"], "text": payload["text"]})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problems = [what for what, value in (("room", room), ("user", user))
                    if not valid_name(value)]
        if problems:
            await ws.send_text(json.dumps({
                "type": "error", "code": "bad_request",
                "message": f"invalid {' and '.join(problems)}: 1-32 of A-Z a-z 0-9 _ . -"}))
            await ws.close(BAD_REQUEST_CLOSE)
            return
        assert isinstance(room, str) and isinstance(user, str)

        async def enter() -> bool:
            arrived = presence.join(room, user, ws)
            names[ws] = user
            roster = json.dumps({"type": "roster", "room": room, "users": presence.roster(room)})
            await asyncio.wait_for(ws.send_text(roster), send_timeout)
            return arrived

        try:
            if await worker(room).run(enter):
                await events.emit("chat.joined", {"room": room, "user": user})
                await post(room, {"type": "join", "room": room, "user": user})
            async for message in _frames(ws):
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    await ws.send_text(json.dumps(
                        {"type": "error", "code": "bad_frame", "message": str(exc)}))
                    continue
                if command["type"] == "ping":
                    await ws.send_text('{"type": "pong"}')
                    continue
                await events.emit("room.message",
                                  {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            if presence.leave(room, user, ws):
                await events.emit("chat.left", {"room": room, "user": user})
                await post(room, {"type": "leave", "room": room, "user": user})
            names.pop(ws, None)

    return app


async def _frames(ws: WebSocket) -> Any:
    """The frames a connection sends, until it disconnects."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        yield message
