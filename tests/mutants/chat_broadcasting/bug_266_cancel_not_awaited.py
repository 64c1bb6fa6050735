"""Exercise 3: chat_broadcasting.

A WebSocket chat driven by ``app.events``: ASCII-only names, a frame parser
that turns every malformed frame into a ``ValueError``, presence per user (not
per tab), and a broadcast that sends side by side with ``asyncio.wait`` and a
single deadline, cancelling whatever has not finished by then.

BUG (planted): the rule "A send that ran out of time is ended (cancelled), not
left running after ``broadcast`` returned" (broadcast docstring; the page: "a
send that ran out of time is ended (cancelled) by then"). This broadcast calls
``task.cancel()`` on the stragglers and returns at once: cancel() only
*requests* cancellation, so the timed-out sends are still pending (their
``finally`` not run) when broadcast returns. An assistant writes the textbook
``asyncio.wait(..., timeout)`` + ``cancel()`` idiom and forgets the second wait.
"""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
DROPPED_CLOSE = 1011  # "internal error": the server gave up on this member

_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")  # exactly 65


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``.

    Those 65 ASCII characters and no others: not ``ö`` or ``名`` (letters to
    ``\\w`` and ``str.isalnum``), not ``٣`` (a digit to ``\\d``), not a trailing
    newline (which ``$`` lets through). Any other value (None, a number, a
    list, a dict) is False, never an exception.
    """
    return (
        isinstance(value, str)
        and 1 <= len(value) <= 32
        and all(char in _NAME_CHARS for char in value)
    )


def _quote(value: Any) -> str:
    """Quote a client's value for an error message: repr (escapes lone surrogates), short."""
    text = repr(value) if isinstance(value, str) else f"a {type(value).__name__}"
    return text if len(text) <= 40 else text[:37] + "..."


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message (what ``await ws.receive()`` returns) into a command.

    Return ``{"type": "ping"}`` or ``{"type": "message", "text": T}``. Raise
    ``ValueError("<what is wrong>")`` for a binary frame (``message["text"]`` is
    None, whatever its bytes), text that is not JSON, JSON that is not an
    object, a missing or unknown ``type``, or a ``text`` that is not a
    non-empty string of at most MAX_TEXT characters.

    Never raise anything else, whatever the frame holds: "not JSON" is what
    ``json.loads`` refuses, with ValueError (also for an integer of more than
    4300 digits, or a leading byte order mark) or RecursionError (100 000
    nested ``[`` or ``{"a": ``, at the start or anywhere inside the frame); a
    repeated key is JSON, the last value winning. ``type``
    may be a list or an object (not hashable); a message quoting it should use
    ``repr``. ``len(T)`` counts characters, not bytes; whitespace and control
    characters (``\\n``, ``\\t``) are text; a lone surrogate (``"\\ud800"``) is
    text too. Other fields are ignored.
    """
    try:
        raw = message.get("text")
    except AttributeError:
        raw = None
    if not isinstance(raw, str):
        raise ValueError("binary frame: this chat speaks JSON text frames only")
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"not JSON: {str(exc)[:80]}") from None

    match data:
        case dict():
            pass
        case _:
            raise ValueError(f"not a JSON object: got a {type(data).__name__}")
    match data.get("type"):
        case None if "type" not in data:
            raise ValueError("missing 'type'")
        case str("ping"):
            return {"type": "ping"}
        case str("message"):
            pass
        case other:
            raise ValueError(f"unknown type {_quote(other)}: use 'message' or 'ping'")
    match data.get("text"):
        case None if "text" not in data:
            raise ValueError("a message needs a 'text'")
        case str() as text if 1 <= len(text) <= MAX_TEXT:
            return {"type": "message", "text": text}
        case str() as text if not text:
            raise ValueError("the text is empty")
        case str() as text:
            raise ValueError(f"the text is too long: {len(text)} > {MAX_TEXT} characters")
        case other:
            raise ValueError(f"the text must be a string, not {type(other).__name__}")


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    A user with two tabs is one user: they join when their first connection
    opens and leave when their last one closes.
    """

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn`` to ``user``'s connections in ``room``.

        True when the user just arrived (0 -> 1 connections), else False.
        """
        users = self._rooms.setdefault(room, {})
        if user in users:
            users[user].add(conn)
            return False
        users[user] = {conn}
        return True

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``. True when it was the user's last connection (1 -> 0).

        Leaving with a connection that is not (or no longer) there returns False
        and changes nothing, so a clean close after a failed send never
        announces a leave twice.
        """
        conns = self._rooms.get(room, {}).get(user)
        if not conns or conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        users = self._rooms[room]
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once (an empty room: ``[]``)."""
        return sorted(self._rooms.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room`` (every tab of every user)."""
        result: list[Hashable] = []
        for conns in self._rooms.get(room, {}).values():
            result.extend(conns)
        return result


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed.

    * Serialise ``frame`` to JSON once with ``json.dumps`` and send the text
      with ``await conn.send_text(text)`` to each member (not ``send_json``,
      which writes raw UTF-8 and fails on a text holding a lone surrogate).
      Await what ``conn.send_text(text)`` returns, whatever ``send_text`` is (an
      ``async def`` method, or a plain function or lambda returning the coroutine);
      what the send itself returns (None, a byte count) is not a failure.
    * A member whose send raises, or does not finish within ``timeout``
      seconds, is returned; every other member still gets the frame, and the
      whole broadcast takes about ``timeout`` at most, however many members stall.
      A send that ran out of time is ended (cancelled), not left running after
      ``broadcast`` returned.
    * Work on a copy of ``conns``: a member joining or leaving while the
      broadcast runs changes the next broadcast, not this one. Leave ``conns``
      itself as it was: return the failed members, do not remove them from it.
    """
    members = list(conns)  # snapshot; a list keeps equal members apart
    if not members:
        return []
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(send(conn)) for conn in members]
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout)
    except BaseException:
        for task in tasks:
            task.cancel()
        raise
    # one deadline for everyone: cancel the stragglers, they are dropped anyway
    for task in pending:
        task.cancel()
    failed = []
    for conn, task in zip(members, tasks):
        if task in pending or task.cancelled() or task.exception() is not None:
            failed.append(conn)
    return failed


@dataclass
class Room:
    """The per-room state: one lock orders roster, messages and leaves; seq never resets."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    seq: int = 0


class ChatServer:
    """Everything one app knows. ``create_app`` makes a new one per call."""

    def __init__(self, events: day25.EventBus, send_timeout: float) -> None:
        self.events = events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self.rooms: dict[str, Room] = {}
        self.users: dict[Any, str] = {}  # connection -> user

    def room(self, name: str) -> Room:
        if name not in self.rooms:
            self.rooms[name] = Room()
        return self.rooms[name]

    # -- the room's frames (call with the room's lock held) ---------------------
    async def publish(self, room: str, frame: dict[str, Any]) -> None:
        failed = await broadcast(
            self.presence.connections(room), frame, timeout=self.send_timeout
        )
        if failed:
            await self.drop(room, failed)

    async def drop(self, room: str, failed: list[Any]) -> None:
        # forget all of them first: none of them must be sent another's leave
        left = []
        for conn in failed:
            user = self.users.pop(conn, None)
            if user is not None and self.presence.leave(room, user, conn):
                left.append(user)
        await asyncio.gather(*(self.close(conn, DROPPED_CLOSE) for conn in failed))
        for user in left:
            await self.announce_leave(room, user)

    async def announce_leave(self, room: str, user: str) -> None:
        await self.publish(room, {"type": "leave", "room": room, "user": user})
        await self.events.emit("chat.left", {"room": room, "user": user})

    async def close(self, ws: Any, code: int) -> None:
        try:
            await asyncio.wait_for(ws.close(code), self.send_timeout)
        except Exception:
            pass  # gone already, or never takes the close frame

    async def reply(self, ws: Any, frame: dict[str, Any]) -> bool:
        try:
            await ws.send_text(json.dumps(frame))
            return True
        except Exception:
            return False

    # -- the room.message listener -------------------------------------------
    async def on_message(self, payload: dict[str, Any]) -> None:
        name = payload["room"]
        room = self.room(name)
        async with room.lock:
            room.seq += 1
            frame = {  # a new dict: the payload stays as emitted
                "type": "message",
                "room": name,
                "user": payload["user"],
                "text": payload["text"],
                "seq": room.seq,
            }
            await self.publish(name, frame)

    # -- the route ---------------------------------------------------------------
    async def serve(self, ws: WebSocket) -> None:
        await ws.accept()
        name = ws.path_params.get("room")
        user = ws.query_params.get("user")
        if not (valid_name(name) and valid_name(user)):
            what = "room" if not valid_name(name) else "user"
            await self.reply(ws, {
                "type": "error",
                "code": "bad_request",
                "message": f"missing or invalid {what}: 1-32 characters of [A-Za-z0-9_.-]",
            })
            await self.close(ws, BAD_REQUEST_CLOSE)
            return

        room = self.room(name)
        async with room.lock:
            arrived = self.presence.join(name, user, ws)
            self.users[ws] = user
            roster = {"type": "roster", "room": name, "users": self.presence.roster(name)}
            if not await self.reply(ws, roster):
                self.users.pop(ws, None)
                self.presence.leave(name, user, ws)
                return
            if arrived:
                await self.publish(name, {"type": "join", "room": name, "user": user})
                await self.events.emit("chat.joined", {"room": name, "user": user})

        try:
            await self.receive_loop(ws, name, user)
        except WebSocketDisconnect:
            pass
        finally:
            async with room.lock:
                self.users.pop(ws, None)
                if self.presence.leave(name, user, ws):
                    await self.announce_leave(name, user)

    async def receive_loop(self, ws: WebSocket, room: str, user: str) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                ok = await self.reply(ws, {"type": "error", "code": "bad_frame",
                                           "message": str(exc)})
                await self.events.emit("ws.error", {"room": room, "user": user,
                                                    "error": str(exc)})
                if not ok:
                    return
                continue
            if command["type"] == "ping":
                if not await self.reply(ws, {"type": "pong"}):
                    return
                continue
            await self.events.emit(
                "room.message", {"room": room, "user": user, "text": command["text"]}
            )


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route.

    The route speaks the protocol of ``docs/exercises/chat_broadcasting.md``;
    a listener of ``room.message`` does the broadcast, and a member whose send
    failed or took longer than ``send_timeout`` seconds is dropped, leaves
    like one that closed, and is closed with code 1011 (if it still can be).
    Members dropped by one broadcast leave together: forget them all before
    announcing any of their leaves (no leave is sent to a member being dropped).
    Each call's app has state of its own (seq counters, send_timeout): two apps
    made in one process share nothing.
    """
    app = NexiosApp()
    events = day25.install(app)
    server = ChatServer(events, send_timeout)
    events.on("room.message", server.on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await server.serve(ws)

    return app
