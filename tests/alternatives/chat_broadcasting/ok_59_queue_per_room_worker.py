"""CORRECT variant: a queue per room served by a worker task (no asyncio.Lock).

Every room operation (a tab's join + roster, a message, a leave) is a job put
on the room's FIFO queue; one worker task per room runs the jobs one at a time
and exits when the queue is empty (so no task outlives the app's work). The
caller awaits a future for its job. The roster is taken and sent inside the
job, a leave forgets the tab and announces it inside one job, and a message
takes its seq inside its job, so every member sees one order and rosters agree
with later joins/leaves. Presence is kept as conn -> (user) per room plus a
count per user; broadcast uses one task per member, each with wait_for.
Dropped members are all forgotten before any leave goes out; they are closed
with 1011 in the background, each close bounded by send_timeout.
"""

from __future__ import annotations

import asyncio
import collections
import json
import re
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.\-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0


def valid_name(value: object) -> bool:
    return isinstance(value, str) and bool(NAME.fullmatch(value))


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    if "text" not in message or message["text"] is None:
        raise ValueError("binary frames are refused")
    try:
        data = json.loads(message["text"])
    except RecursionError:
        raise ValueError("JSON nested too deep") from None
    except ValueError as exc:
        raise ValueError(f"invalid JSON: {str(exc)[:60]}") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    kind = data.get("type", None)
    if not isinstance(kind, str):
        raise ValueError(f"'type' must be a string, got {repr(kind)[:30]}")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown type {kind[:30]!r}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("a message needs a string 'text'")
    if not 1 <= len(text) <= MAX_TEXT:
        raise ValueError(f"'text' must have 1-{MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """room -> {conn: user} and room -> {user: number of conns}."""

    def __init__(self) -> None:
        self._conns: dict[str, dict[Hashable, str]] = collections.defaultdict(dict)
        self._count: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        self._conns[room][conn] = user
        self._count[room][user] += 1
        return self._count[room][user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        conns = self._conns.get(room)
        if not conns or conns.get(conn) != user:
            return False
        del conns[conn]
        counts = self._count[room]
        counts[user] -= 1
        if counts[user] > 0:
            return False
        del counts[user]
        if not conns:
            self._conns.pop(room, None)
            self._count.pop(room, None)
        return True

    def roster(self, room: str) -> list[str]:
        counts = self._count.get(room)
        return sorted(u for u, n in counts.items() if n > 0) if counts else []

    def connections(self, room: str) -> list[Hashable]:
        conns = self._conns.get(room)
        return list(conns) if conns else []


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    members = [c for c in conns]
    payload = json.dumps(frame)

    async def one(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(payload), timeout)
        except Exception:
            return False
        return True

    oks = await asyncio.gather(*[one(c) for c in members])
    return [c for c, ok in zip(members, oks) if not ok]


class _RoomQueue:
    def __init__(self) -> None:
        self.jobs: collections.deque[tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any]]] = (
            collections.deque())
        self.worker: asyncio.Task[None] | None = None
        self.seq = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    queues: dict[str, _RoomQueue] = {}
    users: dict[WebSocket, str] = {}
    background: set[asyncio.Task[Any]] = set()

    async def work(q: _RoomQueue) -> None:
        while q.jobs:
            job, fut = q.jobs.popleft()
            try:
                result = await job()
            except Exception as exc:
                if not fut.done():
                    fut.set_exception(exc)
            else:
                if not fut.done():
                    fut.set_result(result)
        q.worker = None

    async def run(room: str, job: Callable[[], Awaitable[Any]]) -> Any:
        q = queues.setdefault(room, _RoomQueue())
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        q.jobs.append((job, fut))
        if q.worker is None:
            q.worker = asyncio.create_task(work(q))
        return await fut

    async def shut(ws: WebSocket) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    async def send_and_drop(room: str, frame: dict[str, Any]) -> None:
        """Inside a job: broadcast, then drop the failed members together."""
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        leavers = []
        for ws in failed:
            user = users.get(ws)
            if user is not None and presence.leave(room, user, ws):
                leavers.append(user)
        for ws in failed:
            task = asyncio.create_task(shut(ws))
            background.add(task)
            task.add_done_callback(background.discard)
        for user in leavers:
            await events.emit("chat.left", {"room": room, "user": user})
            await send_and_drop(room, {"type": "leave", "room": room, "user": user})

    @events.on("room.message")
    async def relay(payload: dict[str, str]) -> None:
        room = payload["room"]

        async def job() -> None:
            q = queues[room]
            q.seq += 1
            await send_and_drop(room, {"type": "message", "room": room,
                                       "user": payload["user"], "text": payload["text"],
                                       "seq": q.seq})

        await run(room, job)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "bad room or user name"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        users[ws] = user

        async def enter() -> None:
            first = presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            await asyncio.wait_for(ws.send_text(json.dumps(roster)), send_timeout)
            if first:
                await events.emit("chat.joined", {"room": room, "user": user})
                await send_and_drop(room, {"type": "join", "room": room, "user": user})

        async def exit_() -> None:
            if presence.leave(room, user, ws):
                await events.emit("chat.left", {"room": room, "user": user})
                await send_and_drop(room, {"type": "leave", "room": room, "user": user})

        try:
            await run(room, enter)
            while True:
                msg = await ws.receive()
                if msg["type"] == "websocket.disconnect":
                    break
                try:
                    cmd = parse_frame(msg)
                except ValueError as exc:
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame",
                                        "message": str(exc)})
                    continue
                if cmd["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": cmd["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            await run(room, exit_)
            users.pop(ws, None)

    return app
