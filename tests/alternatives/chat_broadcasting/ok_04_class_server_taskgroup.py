"""Exercise 3: chat_broadcasting, written as a class-based server with a TaskGroup broadcast.

Style: all of one app's state (presence, one lock and one seq counter per room,
the background close tasks) lives in a ``ChatServer`` object built by
``create_app``; the route and the ``room.message`` listener are its bound
methods. ``broadcast`` runs one child task per member inside an
``asyncio.TaskGroup``; each child bounds its own send with ``asyncio.timeout``
and records a failure instead of raising, so one dead or stalled member never
cancels the others.

Why it meets the text:

* names: ``NAME.fullmatch`` on a ``str`` (64 ASCII characters, 1-32 of them;
  ``fullmatch`` does not let a trailing newline through the way ``$`` does);
* frames: ``parse_frame`` catches ``ValueError`` and ``RecursionError`` from
  ``json.loads``, compares ``type`` with ``==`` (a list or an object is never
  looked up in a set), and quotes only short ``repr`` slices of strings;
* presence: room -> user -> set of connections, join True on 0 -> 1, leave True
  on 1 -> 0 and False (changing nothing) for a connection that is not there;
* order: one ``asyncio.Lock`` per room around every roster, join, leave and
  message broadcast, so ``seq`` (never reset) agrees with what everyone sees;
* robustness: ``broadcast`` sends to ``list(conns)``, serialised once with
  ``json.dumps``; the members it returns are all forgotten before any of their
  leaves is announced, a leave broadcast that fails for more members forgets
  those too before the next announcement, and each is closed with 1011 in the
  background (a connection that is already gone just refuses, quietly);
* errors: a bad frame answers the sender alone and emits ``ws.error``; a normal
  disconnect is a ``websocket.disconnect`` message or a ``WebSocketDisconnect``,
  both ending the loop without ``ws.error`` and without raising.
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
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``.

    Those 64 ASCII characters and no others: not letters outside ASCII, not a
    trailing newline. ``fullmatch`` needs the whole string to match.
    """
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def _quote(value: str, limit: int = 40) -> str:
    """A short, escaped quotation of a client's string (repr escapes lone surrogates)."""
    if len(value) > limit:
        return repr(value[:limit]) + "..."
    return repr(value)


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``.

    Anything else raises ``ValueError`` saying what is wrong, and nothing else
    is ever raised: binary frames, text that ``json.loads`` refuses (with
    ValueError or RecursionError), JSON that is not an object, a missing or
    unknown ``type``, a ``text`` that is not a non-empty str of at most
    MAX_TEXT characters. Other fields are ignored.
    """
    try:
        text = message.get("text")
    except Exception:
        raise ValueError("not a WebSocket message") from None
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    if not isinstance(text, str):
        raise ValueError("the frame holds no text")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("not JSON: nested too deeply") from None
    except ValueError:
        raise ValueError("not JSON") from None
    if not isinstance(data, dict):
        raise ValueError(f"a frame must be a JSON object, not a JSON {type(data).__name__}")
    if "type" not in data:
        raise ValueError("the frame has no 'type'")
    kind = data["type"]
    if not isinstance(kind, str):
        raise ValueError(f"unknown type: a {type(kind).__name__}, not 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    if kind != "message":
        raise ValueError(f"unknown type {_quote(kind)}: use 'message' or 'ping'")
    if "text" not in data:
        raise ValueError("a message needs a 'text'")
    body = data["text"]
    if not isinstance(body, str):
        raise ValueError(f"'text' must be a string, not a {type(body).__name__}")
    if not body:
        raise ValueError("'text' is empty")
    if len(body) > MAX_TEXT:
        raise ValueError(f"'text' has {len(body)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": body}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections.

    A user with two tabs is one user: they join when their first connection
    opens and leave when their last one closes.
    """

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn`` to ``user``'s connections in ``room``; True on 0 -> 1 connections."""
        tabs = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not tabs
        tabs.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0).

        A connection that is not (or no longer) there returns False and changes nothing.
        """
        users = self._rooms.get(room)
        if users is None:
            return False
        tabs = users.get(user)
        if tabs is None or conn not in tabs:
            return False
        tabs.discard(conn)
        if tabs:
            return False
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once (an empty room: ``[]``)."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room`` (every tab of every user)."""
        return [conn for tabs in self._rooms.get(room, {}).values() for conn in tabs]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed.

    The frame is serialised once with ``json.dumps`` and sent with
    ``send_text`` to a snapshot of ``conns``, all sends side by side in one
    TaskGroup, each bounded by its own ``timeout``. The failed or stalled
    members come back in snapshot order, once every send has finished.
    """
    members = list(conns)  # the snapshot, taken before the first await
    text = json.dumps(frame)
    failed = [False] * len(members)

    async def deliver(index: int, conn: Any) -> None:
        try:
            async with asyncio.timeout(timeout):
                await conn.send_text(text)
        except Exception:  # raised, or TimeoutError: this member alone is out
            failed[index] = True

    if members:
        async with asyncio.TaskGroup() as group:
            for index, conn in enumerate(members):
                group.create_task(deliver(index, conn))
    return [conn for conn, bad in zip(members, failed) if bad]


class Member:
    """One open tab: its socket, room and user. Hashed by identity."""

    __slots__ = ("ws", "room", "user", "gone")

    def __init__(self, ws: WebSocket, room: str, user: str) -> None:
        self.ws = ws
        self.room = room
        self.user = user
        self.gone = False  # dropped or departed: its route stops reading

    async def send_text(self, text: str) -> None:
        await self.ws.send_text(text)


class ChatServer:
    """The state and behaviour of one chat app."""

    def __init__(self, app: NexiosApp, send_timeout: float) -> None:
        self.app = app
        self.events = app.events
        self.send_timeout = send_timeout
        self.presence = Presence()
        self._locks: dict[str, asyncio.Lock] = {}
        self._seq: dict[str, int] = {}
        self._closing: set[asyncio.Task[None]] = set()

    # -- helpers ---------------------------------------------------------------
    def _lock(self, room: str) -> asyncio.Lock:
        lock = self._locks.get(room)
        if lock is None:
            lock = self._locks[room] = asyncio.Lock()
        return lock

    async def _send_own(self, member: Member, frame: dict[str, Any]) -> bool:
        """A frame for this member alone (roster, pong, error); False if it failed or stalled."""
        return not await broadcast([member], frame, timeout=self.send_timeout)

    def _close_later(self, member: Member) -> None:
        """Close a dropped member with 1011 in the background, if it still can be."""
        async def close() -> None:
            try:
                async with asyncio.timeout(self.send_timeout):
                    await member.ws.close(DROPPED_CLOSE)
            except Exception:  # already gone (its send raised), or the close stalled
                pass

        task = asyncio.get_running_loop().create_task(close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _announce(self, room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room as it is now; drop whoever fails. Call with the room's lock."""
        failed = await broadcast(self.presence.connections(room), frame,
                                 timeout=self.send_timeout)
        if failed:
            await self._remove(room, failed, close=True)

    async def _remove(self, room: str, members: Iterable[Any], *, close: bool) -> None:
        """Forget every one of ``members`` first, then announce the users that left.

        A leave broadcast that fails for more members forgets them as well before
        the next leave goes out, so nobody being dropped is sent a leave.
        Call with the room's lock held.
        """
        departed: list[str] = []

        def forget(batch: Iterable[Any], closing: bool) -> None:
            for member in batch:
                if isinstance(member, Member):
                    already = member.gone
                    member.gone = True
                    if closing and not already:
                        self._close_later(member)
                    user = member.user
                else:  # not one of ours: nothing to close, nobody to name
                    continue
                if self.presence.leave(room, user, member):
                    departed.append(user)

        forget(members, close)
        while departed:
            user = departed.pop(0)
            await self.events.emit("chat.left", {"room": room, "user": user})
            failed = await broadcast(self.presence.connections(room),
                                     {"type": "leave", "room": room, "user": user},
                                     timeout=self.send_timeout)
            forget(failed, True)

    # -- the listener ------------------------------------------------------------
    async def on_room_message(self, payload: Any) -> None:
        """``room.message`` -> the next seq of that room, to everyone in it, the sender included."""
        try:
            room, user, text = payload["room"], payload["user"], payload["text"]
        except Exception:
            return
        async with self._lock(room):
            seq = self._seq.get(room, 0) + 1
            self._seq[room] = seq
            await self._announce(room, {"type": "message", "room": room, "user": user,
                                        "text": text, "seq": seq})

    # -- the route ---------------------------------------------------------------
    async def refuse(self, ws: WebSocket, problem: str) -> None:
        """bad_request, then close 4400; a client already gone costs nothing."""
        frame = {"type": "error", "code": "bad_request", "message": problem}
        try:
            async with asyncio.timeout(self.send_timeout):
                await ws.send_text(json.dumps(frame))
        except Exception:
            pass
        try:
            async with asyncio.timeout(self.send_timeout):
                await ws.close(BAD_REQUEST_CLOSE)
        except Exception:
            pass

    @staticmethod
    def problem(room: Any, user: Any) -> str | None:
        """What is wrong with the room and user names (None: nothing)."""
        if room is None or room == "":
            return "the room is missing"
        if not valid_name(room):
            return f"bad room name {_quote(str(room))}: use 1-32 of A-Z a-z 0-9 _ . -"
        if user is None or user == "":
            return "the user is missing: connect with ?user=NAME"
        if not valid_name(user):
            return f"bad user name {_quote(str(user))}: use 1-32 of A-Z a-z 0-9 _ . -"
        return None

    async def enter(self, member: Member) -> bool:
        """Roster to the newcomer, then (on 0 -> 1) its join to everyone. False: it is gone."""
        room, user = member.room, member.user
        async with self._lock(room):
            users = set(self.presence.roster(room))
            users.add(user)
            roster = {"type": "roster", "room": room, "users": sorted(users)}
            if not await self._send_own(member, roster):
                member.gone = True
                self._close_later(member)
                return False
            if self.presence.join(room, user, member):
                await self.events.emit("chat.joined", {"room": room, "user": user})
                await self._announce(room, {"type": "join", "room": room, "user": user})
        return not member.gone

    async def drop(self, member: Member) -> None:
        """This member failed a frame of its own: it leaves and is closed with 1011."""
        async with self._lock(member.room):
            await self._remove(member.room, [member], close=True)

    async def serve(self, ws: WebSocket, room: Any) -> None:
        """The ``/chat/{room}`` route."""
        try:
            await ws.accept()
        except Exception:
            return  # the client vanished during the handshake
        user = ws.query_params.get("user")
        problem = self.problem(room, user)
        if problem is not None:
            await self.refuse(ws, problem)
            return
        member = Member(ws, room, user)
        try:
            if await self.enter(member):
                await self.read(member)
        except WebSocketDisconnect:
            pass  # a normal goodbye, not an error
        except Exception:
            pass  # the connection is over either way; its leave follows, nothing escapes
        finally:
            async with self._lock(room):
                await self._remove(room, [member], close=False)

    async def read(self, member: Member) -> None:
        """The receive loop: one frame at a time until the client goes or is dropped."""
        ws, room, user = member.ws, member.room, member.user
        while not member.gone:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect" or member.gone:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                error = str(exc)
                sent = await self._send_own(
                    member, {"type": "error", "code": "bad_frame", "message": error})
                await self.events.emit("ws.error", {"room": room, "user": user, "error": error})
                if not sent:
                    await self.drop(member)
                    return
                continue
            if command["type"] == "ping":
                if not await self._send_own(member, {"type": "pong"}):
                    await self.drop(member)
                    return
            else:
                await self.events.emit("room.message",
                                       {"room": room, "user": user, "text": command["text"]})


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route.

    The route speaks the protocol of ``docs/exercises/chat_broadcasting.md``; a
    ``room.message`` listener does the broadcast, and members whose send failed
    or took longer than ``send_timeout`` are dropped together, leave like a
    close, and are closed with code 1011 when they still can be.
    """
    app = NexiosApp()
    day25.install(app)
    server = ChatServer(app, send_timeout)
    app.events.on("room.message", server.on_room_message)

    @app.ws_route("/chat/{room}")
    async def chat_room(ws: WebSocket) -> None:
        await server.serve(ws, ws.path_params.get("room"))

    # Paths the route above does not match ("/chat/", "/chat/a/b", "/chat") still get
    # bad_request and 4400 rather than a refused handshake: their room is missing or
    # holds a "/". (Registered after it: "{room:path}" would read "lobby" out of
    # "/chat/lobby%0A", since its ".*$" stops before a final newline.)
    @app.ws_route("/chat/{rest:path}")
    async def chat_bad_room(ws: WebSocket) -> None:
        await server.serve(ws, ws.path_params.get("rest"))

    @app.ws_route("/chat")
    async def chat_without_room(ws: WebSocket) -> None:
        await server.serve(ws, None)

    return app
