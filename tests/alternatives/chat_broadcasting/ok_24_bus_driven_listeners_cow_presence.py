"""Style: bus-driven: the route only emits `chat.joined`, `chat.left` and `room.message` (holding the room's lock), and three listeners on `app.events` do every room send; presence is copy-on-write (frozensets), members are NamedTuples, and each send runs under `asyncio.timeout`.

Follows: "The new connection's first frame is the roster ... [sorted unique user names, including yourself]" (sent before `chat.joined` is emitted, whose listener sends the `join` to every connection, the joiner's too); "When a user goes from 1 to 0 connections: `{"type": "leave", ...}` to everyone still there" (the `chat.left` listener, after `Presence.leave` said True); "A second tab of the same user is **not** a second user" (`join`/`leave` are True only on 0 -> 1 and 1 -> 0); "a **listener** broadcasts it to every connection in the room, the sender included" with "`N` is a per-room counter starting at 1 ... it does **not** restart when the room empties" (`seqs` outlives the room) and "Every member sees a room's frames in the same order" (whoever emits holds the room's lock); "send to a **snapshot**", "each send its own timeout" and "however many members stall at once, the room waits one `send_timeout`" (`broadcast` copies, then runs the sends side by side, each under `asyncio.timeout`); "members dropped by one broadcast leave **together**: forget every one of them before announcing any of their leaves" (listeners only collect failed members; `settle` forgets a whole batch, then emits one `chat.left` per user it emptied, forgetting at once whoever that announcement drops, and closes them all with 1011); "a dropped or closed member's later clean-up must not announce the leave twice"; "the sender gets `{"type": "error", "code": "bad_frame", ...}`; the app emits `ws.error` ...; the connection **stays open**"; "A normal disconnect ... is a leave, **not** an error"; "Always `await ws.accept()` first ... close with code **4400**".
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable
from typing import Any, NamedTuple

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
    return isinstance(value, str) and re.fullmatch(NAME, value) is not None


def _quote(value: Any, limit: int = 32) -> str:
    shown = repr(value)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """One received ASGI message -> ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    text_frame = message.get("text")
    if text_frame is None:
        raise ValueError("binary frame (only JSON text frames are accepted)")
    try:
        body = json.loads(text_frame)
    except (ValueError, RecursionError):
        raise ValueError("not JSON") from None
    if not isinstance(body, dict):
        raise ValueError(f"not a JSON object but {type(body).__name__}")
    kind = body.get("type")
    if not (isinstance(kind, str) and kind in KINDS):
        raise ValueError("missing type" if kind is None else f"unknown type {_quote(kind)}")
    if kind == "ping":
        return {"type": "ping"}
    text = body.get("text")
    if not isinstance(text, str):
        raise ValueError("text missing or not a string")
    if len(text) == 0:
        raise ValueError("empty text")
    if len(text) > MAX_TEXT:
        raise ValueError(f"text of {len(text)} characters (at most {MAX_TEXT})")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    Copy-on-write: every change stores new frozensets and dicts, so whatever
    ``connections`` handed out earlier never changes under its reader.
    """

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, frozenset[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room, {})
        tabs = users.get(user, frozenset())
        self._rooms[room] = {**users, user: tabs | {conn}}
        return not tabs

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        users = self._rooms.get(room, {})
        tabs = users.get(user, frozenset())
        if conn not in tabs:
            return False
        rest = tabs - {conn}
        users = {name: conns for name, conns in users.items() if name != user}
        if rest:
            users[user] = rest
        if users:
            self._rooms[room] = users
        else:
            self._rooms.pop(room, None)
        return not rest

    def roster(self, room: str) -> list[str]:
        return sorted(self._rooms.get(room, {}).keys())

    def connections(self, room: str) -> list[Hashable]:
        found: list[Hashable] = []
        for tabs in self._rooms.get(room, {}).values():
            found.extend(tabs)
        return found


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to a snapshot of ``conns`` side by side; return the members whose send failed."""
    members = [*conns]
    encoded = json.dumps(frame)

    async def one(conn: Any) -> Any:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(encoded)
        except Exception:
            return conn
        return None

    outcome = await asyncio.gather(*(one(conn) for conn in members))
    return [conn for conn, failed in zip(members, outcome) if failed is not None]


class Member(NamedTuple):
    """One open connection of a user (two tabs are two members)."""

    ws: WebSocket
    user: str

    async def send_text(self, text: str) -> None:
        await self.ws.send_text(text)

    async def close(self, code: int, within: float) -> None:
        try:
            async with asyncio.timeout(within):
                await self.ws.close(code=code)
        except Exception:
            pass


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}

    def held(room: str) -> asyncio.Lock:
        return locks.setdefault(room, asyncio.Lock())

    failed: dict[str, list[Member]] = {}  # room -> members whose send failed, not yet dropped

    async def to_room(room: str, frame: dict[str, Any], only: list[Member] | None = None) -> None:
        """Every send to a room (its lock is held); failures wait for ``settle``."""
        targets = presence.connections(room) if only is None else only
        failed.setdefault(room, []).extend(
            await broadcast(targets, frame, timeout=send_timeout))

    async def settle(room: str) -> None:
        """Drop the failed members: forget each batch before announcing any of its leaves."""
        emptied: list[str] = []
        closing: list[Member] = []

        def forget() -> None:
            for member in failed.pop(room, []):
                closing.append(member)
                if presence.leave(room, member.user, member):
                    emptied.append(member.user)

        forget()
        while emptied:
            await events.emit("chat.left", {"room": room, "user": emptied.pop(0)})
            forget()
        for member in closing:
            await member.close(1011, send_timeout)

    async def emit_in(room: str, event: str, payload: dict[str, Any]) -> None:
        """Emit with the room's lock held (the listeners send), then drop who failed."""
        await events.emit(event, payload)
        await settle(room)

    async def to_one(room: str, member: Member, frame: dict[str, Any]) -> None:
        async with held(room):
            if member in presence.connections(room):
                await to_room(room, frame, [member])
                await settle(room)

    @events.on("chat.joined")
    async def announce_join(payload: dict[str, Any]) -> None:
        await to_room(payload["room"], {"type": "join", **payload})

    @events.on("chat.left")
    async def announce_leave(payload: dict[str, Any]) -> None:
        await to_room(payload["room"], {"type": "leave", **payload})

    @events.on("room.message")
    async def announce_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        seqs[room] = seqs.get(room, 0) + 1
        await to_room(room, {"type": "message", "room": room, "user": payload["user"],
                             "text": payload["text"], "seq": seqs[room]})

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        for what, value in (("room", room), ("user", user)):
            if not valid_name(value):
                try:
                    await ws.send_text(json.dumps({
                        "type": "error", "code": "bad_request",
                        "message": f"{what} {'is missing' if value is None else 'is not valid'}:"
                                   " use 1-32 characters of [A-Za-z0-9_.-]"}))
                    await ws.close(code=BAD_REQUEST_CLOSE)
                except Exception:
                    pass
                return
        me = Member(ws, user)
        try:
            async with held(room):
                arrived = presence.join(room, user, me)
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                if await broadcast([me], roster, timeout=send_timeout):
                    presence.leave(room, user, me)  # gone before its roster: never announced
                    return
                if arrived:
                    await emit_in(room, "chat.joined", {"room": room, "user": user})
            while True:
                incoming = await ws.receive()
                if incoming["type"] == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(incoming)
                except ValueError as bad:
                    await to_one(room, me, {"type": "error", "code": "bad_frame",
                                            "message": str(bad)})
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(bad)})
                    continue
                if command["type"] == "ping":
                    await to_one(room, me, {"type": "pong"})
                    continue
                async with held(room):
                    await emit_in(room, "room.message",
                                  {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass
        finally:
            async with held(room):
                if presence.leave(room, user, me):
                    await emit_in(room, "chat.left", {"room": room, "user": user})

    return app
