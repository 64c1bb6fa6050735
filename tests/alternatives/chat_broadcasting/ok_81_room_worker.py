"""Exercise 3: chat_broadcasting.

One worker per room instead of locks: every change to a room (a tab arriving with
its roster and join, a tab leaving, a message with its seq) is a job queued for
that room's worker task, which runs the room's jobs one at a time, in arrival
order, and exits when the queue is empty. The route (or the room.message
listener) awaits its job's future, so an emit returns once its broadcast is done
and a sender's message goes out before its leave. broadcast() starts one task
per member, waits at most `timeout` for all of them together (they all start at
once, so each send gets the whole timeout), cancels and awaits the late ones
before it returns, and reports those plus the ones that raised. All of this
state lives in create_app's closure.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def _shown(value: object) -> str:
    text = repr(value) if not isinstance(value, (list, dict)) else type(value).__name__
    return text[:30] + ("..." if len(text) > 30 else "")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    if not isinstance(value, str):
        return False
    return NAME.fullmatch(value) is not None


def _fault(message: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """(what is wrong, None) or (None, the command)."""
    text = message.get("text")
    if text is None:
        return "a binary frame (send JSON text)", None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return "the frame is not valid JSON", None
    if type(data) is not dict:
        return "the JSON is not an object", None
    kind = data.get("type")
    if kind is None and "type" not in data:
        return "no 'type' field", None
    if not (isinstance(kind, str) and kind in {"ping", "message"}):
        return f"type {_shown(kind)} is not 'message' or 'ping'", None
    if kind == "ping":
        return None, {"type": "ping"}
    if "text" not in data:
        return "a message without 'text'", None
    body = data["text"]
    if not isinstance(body, str):
        return f"'text' must be a string, got {type(body).__name__}", None
    if not 1 <= len(body) <= MAX_TEXT:
        return ("'text' is empty" if not body else
                f"'text' is {len(body)} characters long (at most {MAX_TEXT})"), None
    return None, {"type": "message", "text": body}


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    problem, command = _fault(message)
    if problem is not None or command is None:
        raise ValueError(problem)
    return command


class Presence:
    """Who is in each room: (room, user) -> that user's open connections."""

    def __init__(self) -> None:
        self._tabs: defaultdict[str, dict[str, set[Hashable]]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        tabs = self._tabs[room].get(user)
        if tabs:
            tabs.add(conn)
            return False
        self._tabs[room][user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._tabs.get(room)
        if not users or conn not in users.get(user, ()):
            return False
        users[user].remove(conn)
        if users[user]:
            return False
        del users[user]
        if not users:
            del self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once."""
        return sorted(self._tabs.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room``."""
        return [c for tabs in self._tabs.get(room, {}).values() for c in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return those whose send failed."""
    members = list(conns)
    if not members:
        return []
    text = json.dumps(frame)

    async def push(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(push(conn)) for conn in members]
    late: set[asyncio.Future[None]] = set()
    try:
        await asyncio.wait(tasks, timeout=timeout)
    finally:
        late = {task for task in tasks if not task.done()}
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)
    return [conn for conn, task in zip(members, tasks)
            if task in late or task.cancelled() or task.exception() is not None]


Job = Callable[[], Awaitable[Any]]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    counters: defaultdict[str, int] = defaultdict(int)
    user_of: dict[Any, str] = {}
    queues: dict[str, deque[tuple[Job, asyncio.Future[Any]]]] = {}
    workers: dict[str, asyncio.Task[None]] = {}

    async def work(room: str, queue: deque[tuple[Job, asyncio.Future[Any]]]) -> None:
        try:
            while queue:
                job, result = queue.popleft()
                try:
                    value = await job()
                except Exception as exc:
                    if not result.done():
                        result.set_exception(exc)
                else:
                    if not result.done():
                        result.set_result(value)
        finally:
            del queues[room]
            workers.pop(room, None)
            for _, result in queue:  # only if this worker was cancelled
                result.cancel()

    async def in_room(room: str, job: Job) -> Any:
        """Run ``job`` as the room's next change, after the ones queued before it."""
        result: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        queue = queues.get(room)
        if queue is None:
            queue = queues[room] = deque()
            workers[room] = asyncio.ensure_future(work(room, queue))
        queue.append((job, result))
        return await result

    # -- the jobs' parts: run by the room's worker only --------------------------
    async def shut(conn: Any) -> None:
        try:
            await asyncio.wait_for(conn.close(code=1011), send_timeout)
        except Exception:
            pass

    async def to_room(room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        if not failed:
            return
        forgotten = [conn for conn in failed if user_of.get(conn) is not None]
        leaving = [user for conn in forgotten
                   if presence.leave(room, user := user_of.pop(conn), conn)]
        await asyncio.gather(*map(shut, forgotten))
        for user in leaving:
            await said_goodbye(room, user)

    async def said_goodbye(room: str, user: str) -> None:
        await bus.emit("chat.left", {"room": room, "user": user})
        await to_room(room, {"type": "leave", "room": room, "user": user})

    def arriving(room: str, user: str, ws: Any) -> Job:
        async def job() -> bool:
            first = presence.join(room, user, ws)
            user_of[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            if await broadcast([ws], roster, timeout=send_timeout):
                user_of.pop(ws, None)
                presence.leave(room, user, ws)
                await shut(ws)
                return False
            if first:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await to_room(room, {"type": "join", "room": room, "user": user})
            return True
        return job

    def leaving_job(room: str, user: str, ws: Any) -> Job:
        async def job() -> None:
            if user_of.pop(ws, None) is not None and presence.leave(room, user, ws):
                await said_goodbye(room, user)
        return job

    async def on_message(event: dict[str, Any]) -> None:
        room = event["room"]

        async def job() -> None:
            counters[room] += 1
            await to_room(room, {"type": "message", "room": room, "user": event["user"],
                                 "text": event["text"], "seq": counters[room]})

        await in_room(room, job)

    bus.on("room.message", on_message)

    async def send(ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
        except Exception:
            return False
        return True

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        problems = []
        if not valid_name(room):
            problems.append(f"room {_shown(room)} is not 1-32 characters of [A-Za-z0-9_.-]")
        if user is None:
            problems.append("the user is missing (?user=NAME)")
        elif not valid_name(user):
            problems.append(f"user {_shown(user)} is not 1-32 characters of [A-Za-z0-9_.-]")
        if problems:
            await send(ws, {"type": "error", "code": "bad_request",
                            "message": "; ".join(problems)})
            try:
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        try:
            if not await in_room(room, arriving(room, user, ws)):
                return
            while True:
                message = await ws.receive()
                if message["type"] == "websocket.disconnect":
                    break
                problem, command = _fault(message)
                if problem is not None or command is None:
                    delivered = await send(ws, {"type": "error", "code": "bad_frame",
                                                "message": problem})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": problem})
                    if not delivered:
                        break
                elif command["type"] == "ping":
                    if not await send(ws, {"type": "pong"}):
                        break
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except (WebSocketDisconnect, Exception):
            pass
        finally:
            await in_room(room, leaving_job(room, user, ws))

    return app
