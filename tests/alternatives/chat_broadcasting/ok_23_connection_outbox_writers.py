"""Style: every connection owns an outbox, a queue drained by its own writer task, and the room fans a frame out by queueing it to each outbox and awaiting one future per member.

Follows: "send to a **snapshot** of the room's connections" (the outboxes are listed once, before queueing); "give **each send its own timeout** (`send_timeout` seconds ...)" and "the time a frame waits behind that member's earlier frames is not part of its send" (the writer starts each frame's `wait_for` only when it takes the frame off its queue, and frames leave in queue order); "however many members stall at once, the room waits one `send_timeout` for them" (the writers run side by side); "members dropped by one broadcast leave **together**: forget every one of them before announcing any of their leaves" (`drop` forgets the whole batch, then announces, and batches the members a leave itself drops); "the server closes it (code 1011, if it still can ...)"; "a dropped or closed member's later clean-up must not announce the leave twice" (`Presence.leave` is False the second time); "`N` is a per-room counter starting at 1, kept for as long as the server runs" (`seqs` is never pruned) and "Every member sees a room's frames in the same order" (one lock per room around "next seq, then queue"); "The new connection's first frame is the roster" (queued first, under the room lock, before the join); "Always `await ws.accept()` first ... close with code **4400**"; "the connection **stays open**, and nobody else receives anything" (errors go only to the sender's outbox); "A normal disconnect ... is a leave, **not** an error"; the module-level `broadcast` "serialise[s] once, send[s] to a snapshot of `conns` side by side, each send bounded by `timeout`".
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
ALLOWED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and 1 <= len(value) <= 32 and ALLOWED.issuperset(value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("the frame must be a JSON object")
    kind = data.get("type")
    if kind is None:
        raise ValueError("the frame has no type")
    if not isinstance(kind, str) or kind not in {"message", "ping"}:
        shown = repr(kind)
        raise ValueError(f"unknown type {shown if len(shown) <= 40 else shown[:37] + '...'}")
    if kind == "ping":
        return {"type": "ping"}
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("a message needs a text that is a string")
    if not text or len(text) > MAX_TEXT:
        raise ValueError(f"text must be 1 to {MAX_TEXT} characters long")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not tabs
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room)
        tabs = users.get(user) if users else None
        if not tabs or conn not in tabs:
            return False
        tabs.remove(conn)
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
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> bool:
        try:
            await asyncio.wait_for(conn.send_text(text), timeout)
            return True
        except Exception:
            return False

    delivered = await asyncio.gather(*map(send, members))
    return [conn for conn, ok in zip(members, delivered) if not ok]


class Outbox:
    """One connection's frames, sent one at a time in queue order by a writer task.

    Each frame's future says whether it reached the socket. A send that raises or
    takes longer than ``timeout`` (counted from when the writer starts it) kills the
    outbox: every later frame fails at once.
    """

    def __init__(self, ws: WebSocket, user: str, timeout: float) -> None:
        self.ws = ws
        self.user = user
        self.timeout = timeout
        self.dead = False
        self._queue: asyncio.Queue[tuple[str, asyncio.Future[bool]]] = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._write())

    def put(self, text: str) -> asyncio.Future[bool]:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self.dead:
            done.set_result(False)
        else:
            self._queue.put_nowait((text, done))
        return done

    async def _write(self) -> None:
        done: asyncio.Future[bool] | None = None
        try:
            while True:
                text, done = await self._queue.get()
                if not self.dead:
                    try:
                        await asyncio.wait_for(self.ws.send_text(text), self.timeout)
                    except Exception:
                        self.dead = True
                done.set_result(not self.dead)
                done = None
        finally:
            self.dead = True
            if done is not None and not done.done():
                done.set_result(False)
            while not self._queue.empty():
                self._queue.get_nowait()[1].set_result(False)

    async def stop(self, code: int | None = None) -> None:
        """Stop the writer (failing what is still queued) and, given a code, close the socket."""
        self.dead = True
        self._writer.cancel()
        try:
            await self._writer
        except BaseException:
            pass
        if code is not None:
            try:
                await asyncio.wait_for(self.ws.close(code=code), self.timeout)
            except Exception:
                pass


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}

    def lock(room: str) -> asyncio.Lock:
        if room not in locks:
            locks[room] = asyncio.Lock()
        return locks[room]

    async def deliver(room: str, frame: dict[str, Any], to: list[Outbox] | None = None) -> None:
        """Queue ``frame`` to a snapshot of the room (room lock held), then drop who failed."""
        targets = list(presence.connections(room)) if to is None else to
        text = json.dumps(frame)
        results = await asyncio.gather(*(outbox.put(text) for outbox in targets))
        await drop(room, [outbox for outbox, ok in zip(targets, results) if not ok])

    async def drop(room: str, failed: list[Outbox]) -> None:
        """Forget the whole batch, announce the users it emptied, then close the batch."""
        if not failed:
            return
        gone = [outbox.user for outbox in failed if presence.leave(room, outbox.user, outbox)]
        for user in gone:
            await bus.emit("chat.left", {"room": room, "user": user})
            await deliver(room, {"type": "leave", "room": room, "user": user})
        for outbox in failed:
            await outbox.stop(DROPPED_CLOSE)

    async def answer(room: str, outbox: Outbox, frame: dict[str, Any]) -> None:
        if not await outbox.put(json.dumps(frame)):
            async with lock(room):
                await drop(room, [outbox])

    async def relay(msg: dict[str, Any]) -> None:
        room = msg["room"]
        async with lock(room):
            seqs[room] = seqs.get(room, 0) + 1
            await deliver(room, {"type": "message", "room": room, "user": msg["user"],
                                 "text": msg["text"], "seq": seqs[room]})

    bus.on("room.message", relay)

    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not (valid_name(room) and valid_name(user)):
            wrong = "user" if valid_name(room) else "room"
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"{wrong} is missing or not 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(code=BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        outbox = Outbox(ws, user, send_timeout)
        try:
            async with lock(room):
                arrived = presence.join(room, user, outbox)
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                if not await outbox.put(json.dumps(roster)):
                    presence.leave(room, user, outbox)  # gone before its roster: never announced
                    return
                if arrived:
                    await bus.emit("chat.joined", {"room": room, "user": user})
                    await deliver(room, {"type": "join", "room": room, "user": user})
            while True:
                received = await ws.receive()
                if received["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(received)
                except ValueError as problem:
                    await answer(room, outbox, {"type": "error", "code": "bad_frame",
                                                "message": str(problem)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(problem)})
                    continue
                if command["type"] == "ping":
                    await answer(room, outbox, {"type": "pong"})
                else:
                    await bus.emit("room.message",
                                   {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with lock(room):
                if presence.leave(room, user, outbox):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await deliver(room, {"type": "leave", "room": room, "user": user})
            await outbox.stop()

    app.ws_route("/chat/{room}")(chat)
    return app
