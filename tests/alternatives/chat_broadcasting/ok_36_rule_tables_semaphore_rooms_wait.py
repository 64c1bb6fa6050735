"""Style: table-driven and functional: names are checked against a frozenset of the 64 allowed characters (no regex), frames against an ordered table of (test, complaint) rules, each room is serialised by an ``asyncio.Semaphore(1)`` in plain closure state, commands go through a dispatch dict, and broadcast uses ``asyncio.wait`` with a timeout and cancels what is still pending.

Follows: "a `str` of 1-32 characters, each one of the 64 in `[A-Za-z0-9_.-]`" (``isinstance`` str, ``1 <= len <= 32``, every character in the frozenset, so no ``ö``, ``٣`` or trailing newline); "`parse_frame` ... else `ValueError("<what is wrong>")`, and never any other exception" (binary first, json.loads's ValueError and RecursionError both caught, then the rule table: an object, ``type`` a str and exactly "message" or "ping", ``text`` a str, non-empty, ``len`` at most 2000; no rule reads other fields); "room -> user -> that user's open connections: `join` ... True on 0 -> 1, `leave` ... True on 1 -> 0 (and harmless twice)"; "serialise once, send to a snapshot of `conns` side by side, each send bounded by `timeout`; return the members whose send failed or stalled, after everyone else got the frame" (one ``json.dumps``, a task per member of ``list(conns)`` started together, ``asyncio.wait(timeout=...)``, raised or still pending = failed); "Always `await ws.accept()` first" and the 4400 close; "The new connection's first frame is the roster" then the join to everyone, and a tab gone before its roster is forgotten without a leave; "`N` is a per-room counter starting at 1 ... does **not** restart when the room empties" (counters never deleted); "the sender gets ... bad_frame ... `ws.error` ... the connection **stays open**, and nobody else receives anything"; "a normal disconnect ... is a leave, **not** an error"; "forget every one of them before announcing any of their leaves" and "the server closes it (code 1011, if it still can)" (closes are background tasks bounded by send_timeout); "a dropped or closed member's later clean-up must not announce the leave twice" (leave is False for a connection already forgotten).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Callable, Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")  # the stub's pattern, kept for reference
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped

NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")


def valid_name(value: object) -> bool:
    """True only for a str of 1-32 characters, each one of the 64 in ``NAME_CHARS``."""
    return isinstance(value, str) and 1 <= len(value) <= 32 and NAME_CHARS.issuperset(value)


# (test, complaint) in order; the first failing test names what is wrong with the frame
RULES: tuple[tuple[Callable[[Any], bool], str], ...] = (
    (lambda d: isinstance(d, dict), "the frame is not a JSON object"),
    (lambda d: "type" in d, "the frame has no 'type'"),
    (lambda d: isinstance(d["type"], str), "'type' must be a string"),
    (lambda d: d["type"] in ("message", "ping"), "unknown 'type'"),
    (lambda d: d["type"] == "ping" or "text" in d, "a message needs a 'text'"),
    (lambda d: d["type"] == "ping" or isinstance(d["text"], str), "'text' must be a string"),
    (lambda d: d["type"] == "ping" or len(d["text"]) > 0, "'text' is empty"),
    (lambda d: d["type"] == "ping" or len(d["text"]) <= MAX_TEXT,
     f"'text' is longer than {MAX_TEXT} characters"),
)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError saying why not."""
    raw = message.get("text")
    if raw is None:
        raise ValueError("binary frames are not accepted")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValueError("the frame is not valid JSON") from None
    for test, complaint in RULES:
        if not test(data):
            raise ValueError(complaint)
    if data["type"] == "ping":
        return {"type": "ping"}
    return {"type": "message", "text": data["text"]}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when the user just arrived (0 -> 1 connections)."""
        users = self._rooms.get(room)
        if users is None:
            users = self._rooms[room] = {}
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
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
        """The users in ``room``: sorted, each once (an empty room: ``[]``)."""
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room`` (every tab of every user)."""
        return list(itertools.chain.from_iterable(self._rooms.get(room, {}).values()))


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    if not members:
        return []  # asyncio.wait refuses an empty set
    text = json.dumps(frame)

    async def send(member: Any) -> None:
        await member.send_text(text)

    tasks = [asyncio.ensure_future(send(member)) for member in members]
    _done, pending = await asyncio.wait(tasks, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)  # let the cancellations finish
    return [member for member, task in zip(members, tasks, strict=True)
            if task in pending or task.cancelled() or task.exception() is not None]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    seq: dict[str, int] = {}  # room -> last seq; never deleted
    turns: dict[str, asyncio.Semaphore] = {}  # room -> one frame-producing step at a time
    owner: dict[Any, str] = {}  # connection -> its user
    closers: set[asyncio.Task[Any]] = set()

    def turn(room: str) -> asyncio.Semaphore:
        return turns.setdefault(room, asyncio.Semaphore(1))

    async def close_later(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:  # a member whose send raised is already gone
            pass

    async def deliver(room: str, targets: list[Any], frame: dict[str, Any]) -> None:
        """Send to ``targets``; the ones that fail are forgotten together, closed, and then
        their leaves announced. The caller holds the room's turn."""
        failed = await broadcast(targets, frame, timeout=send_timeout)
        if not failed:
            return
        leavers = [owner[ws] for ws in failed
                   if ws in owner and presence.leave(room, owner[ws], ws)]
        for ws in failed:
            task = asyncio.ensure_future(close_later(ws))
            closers.add(task)
            task.add_done_callback(closers.discard)
        for user in leavers:
            await bus.emit("chat.left", {"room": room, "user": user})
            await send_all(room, {"type": "leave", "room": room, "user": user})

    async def send_all(room: str, frame: dict[str, Any]) -> None:
        await deliver(room, presence.connections(room), frame)

    async def send_one(room: str, ws: Any, frame: dict[str, Any]) -> None:
        async with turn(room):
            await deliver(room, [ws], frame)

    async def relay(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with turn(room):
            seq[room] = seq.get(room, 0) + 1
            await send_all(room, {"type": "message", "room": room, "user": payload["user"],
                                  "text": payload["text"], "seq": seq[room]})

    bus.on("room.message", relay)

    async def on_ping(room: str, user: str, ws: Any, command: dict[str, Any]) -> None:
        await send_one(room, ws, {"type": "pong"})

    async def on_message(room: str, user: str, ws: Any, command: dict[str, Any]) -> None:
        await bus.emit("room.message", {"room": room, "user": user, "text": command["text"]})

    dispatch = {"ping": on_ping, "message": on_message}

    async def arrive(room: str, user: str, ws: Any) -> bool:
        async with turn(room):
            owner[ws] = user
            first = presence.join(room, user, ws)
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            if await broadcast([ws], roster, timeout=send_timeout):
                presence.leave(room, user, ws)  # gone before its roster: never announced
                del owner[ws]
                return False
            if first:
                await bus.emit("chat.joined", {"room": room, "user": user})
                await send_all(room, {"type": "join", "room": room, "user": user})
            return True

    async def depart(room: str, user: str, ws: Any) -> None:
        async with turn(room):
            if presence.leave(room, user, ws):
                await bus.emit("chat.left", {"room": room, "user": user})
                await send_all(room, {"type": "leave", "room": room, "user": user})
            owner.pop(ws, None)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        bad = [what for what, value in (("room", room), ("user", user)) if not valid_name(value)]
        if bad:
            reason = " and ".join(bad) + " must be 1-32 characters of [A-Za-z0-9_.-]"
            try:
                await ws.send_text(json.dumps({"type": "error", "code": "bad_request",
                                               "message": reason}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        if not await arrive(room, user, ws):
            return
        try:
            while True:
                try:
                    message = await ws.receive()
                except Exception:
                    break
                if message.get("type") != "websocket.receive":
                    break  # websocket.disconnect: a normal goodbye
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await send_one(room, ws, {"type": "error", "code": "bad_frame",
                                              "message": str(exc)})
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                await dispatch[command["type"]](room, user, ws, command)
        finally:
            await depart(room, user, ws)

    return app
