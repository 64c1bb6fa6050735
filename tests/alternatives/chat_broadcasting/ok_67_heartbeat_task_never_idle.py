"""Style: a background task samples the rooms every 0.2 s, so the app is never idle.

A chat room over WebSockets, driven by ``app.events``. The protocol is in
``docs/exercises/chat_broadcasting.md``. The module has four parts, each one
idea:

* :func:`parse_frame` turns one received frame into a command, or says what is
  wrong with it (the connection stays open: a bad frame is the sender's problem);
* :class:`Presence` counts *users*, not tabs: a user joins when their first
  connection opens (0 -> 1) and leaves when their last one closes (1 -> 0);
* :func:`broadcast` sends one frame to a *snapshot* of the room, each send with
  its own timeout, and hands back the members whose send failed, so one dead or
  stalled member never costs the others their message;
* :func:`create_app` wires them to the route and the bus. Everything a room
  sends (roster, join, message, leave) goes out under that room's lock, so
  every member sees the room's frames in one order and ``seq`` agrees with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into a command, or raise ValueError saying why.

    Whatever the frame holds, only ValueError comes out: the route answers it
    with bad_frame, and anything else would end the sender's connection.
    "JSON" is what ``json.loads`` reads; what it refuses is malformed, and it
    refuses in two ways: ValueError (bad syntax, an integer of more than 4300
    digits) and RecursionError (``[[[[...`` nested deeper than the stack).
    A ``text`` counts characters as ``len`` does (not UTF-8 bytes) and may be
    any JSON string, even a lone surrogate such as ``"\\ud800"``:
    :func:`broadcast` sends it escaped, as it came.
    """
    text = message.get("text")
    if text is None:
        raise ValueError("binary frames are not accepted: send JSON text")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError("the frame is nested too deeply to read") from None
    except ValueError:
        raise ValueError("the frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("a frame must be a JSON object with a 'type' field")
    kind = data.get("type")
    if kind == "ping":
        return {"type": "ping"}
    if kind == "message":
        body = data.get("text")
        if not isinstance(body, str) or not body:
            raise ValueError("'text' must be a non-empty string")
        if len(body) > MAX_TEXT:
            raise ValueError(f"'text' is longer than {MAX_TEXT} characters")
        return {"type": "message", "text": body}
    # repr, cut short: the reply quotes the sender's value, so it must stay small and
    # sendable (repr escapes a lone surrogate, which no UTF-8 frame can carry raw)
    raise ValueError(f"unknown frame type {kind!r:.40}: expected 'message' or 'ping'")


class Presence:
    """Who is in each room: room -> user -> that user's open connections.

    Why sets of connections: a user with two tabs is one user. Both methods
    report only the changes the room must hear about, and calling ``leave``
    twice for one connection (a clean close after a failed send) is harmless.
    """

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[Hashable]]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn`` to ``user``'s connections; True when the user just arrived (0 -> 1)."""
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0)."""
        users = self._rooms.get(room, {})
        conns = users.get(user)
        if conns is None or conn not in conns:
            return False  # already gone: never announce a leave twice
        conns.remove(conn)
        if conns:
            return False  # another tab is still open
        del users[user]
        if not users:
            del self._rooms[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``, sorted, each once."""
        return sorted(self._rooms.get(room, {}))

    def connections(self, room: str) -> list[Hashable]:
        """A snapshot of every open connection in ``room`` (every tab of every user)."""
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed.

    The frame is serialised once, with ``json.dumps`` (ASCII, escapes included),
    not ``ws.send_json`` (which writes raw UTF-8): a text holding a lone
    surrogate then reaches everyone escaped, instead of failing every send.
    The sends run side by side, each allowed
    ``timeout`` seconds: a member that raised or stalled is in the returned
    list, and every other member still got the frame. ``conns`` is copied
    first, so members joining or leaving meanwhile change the next broadcast,
    not this one.
    """
    members = list(conns)
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        await asyncio.wait_for(conn.send_text(text), timeout)

    # return_exceptions: a failed send is a value, so every other send still runs
    # (if this task itself is cancelled, gather raises: that is never a "dead member")
    outcomes = await asyncio.gather(*(send(c) for c in members), return_exceptions=True)
    return [c for c, outcome in zip(members, outcomes, strict=True)
            if isinstance(outcome, BaseException)]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with the ``/chat/{room}`` WebSocket route and a day25 EventBus."""
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    user_of: dict[WebSocket, str] = {}
    seqs: dict[str, int] = {}  # per room, for the life of the app: never reset
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    def forget(room: str, ws: WebSocket) -> str | None:
        """Forget ``ws``; its user when it was their last tab (a leave to announce).

        A failed send and the route's clean-up may both call it: the second
        call finds ``ws`` gone from presence, whose ``leave`` then says False.
        (A broadcast may also still hold a tab whose route has ended: no user.)
        """
        user = user_of.get(ws)
        return user if user is not None and presence.leave(room, user, ws) else None

    async def announce_leave(room: str, user: str) -> None:
        await events.emit("chat.left", {"room": room, "user": user})
        await publish(room, {"type": "leave", "room": room, "user": user})

    async def publish(room: str, frame: dict[str, Any]) -> None:
        """Send ``frame`` to the room (a message gets the room's next seq), then drop the dead."""
        async with locks[room]:
            if frame["type"] == "message":
                seqs[room] = frame["seq"] = seqs.get(room, 0) + 1
            dead = await broadcast(presence.connections(room), frame, timeout=send_timeout)
        # forget every dead member before announcing any leave: otherwise each
        # announcement would wait on the other dead members all over again
        gone = [user for ws in dead if (user := forget(room, ws)) is not None]
        for user in gone:
            await announce_leave(room, user)
        await asyncio.gather(*(close(ws, 1011) for ws in dead))

    async def close(ws: WebSocket, code: int) -> None:
        with contextlib.suppress(Exception):  # it may be too far gone even to close
            await asyncio.wait_for(ws.close(code), send_timeout)

    @events.on("room.message")
    async def broadcast_message(payload: dict[str, str]) -> None:
        await publish(payload["room"], {"type": "message", **payload})

    housekeeping: list[asyncio.Task[None]] = []

    gauge: dict[str, int] = {}  # for a dashboard: open connections, sampled 5 times a second

    async def tidy() -> None:
        while True:
            await asyncio.sleep(0.2)
            gauge["connections"] = sum(len(presence.connections(room)) for room in list(locks))

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        if not housekeeping:
            housekeeping.append(asyncio.create_task(tidy()))
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        if not valid_name(room) or not valid_name(user):
            await ws.send_json({"type": "error", "code": "bad_request",
                                "message": "room and ?user= must be 1-32 characters of "
                                           "A-Z a-z 0-9 _ . -"})
            await ws.close(BAD_REQUEST_CLOSE)
            return
        assert isinstance(room, str) and isinstance(user, str)
        user_of[ws] = user
        try:
            async with locks[room]:  # no broadcast may reach this tab before its roster
                arrived = presence.join(room, user, ws)
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                await asyncio.wait_for(ws.send_json(roster), send_timeout)
            if arrived:
                await events.emit("chat.joined", {"room": room, "user": user})
                await publish(room, {"type": "join", "room": room, "user": user})
            while (message := await ws.receive())["type"] != "websocket.disconnect":
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    await events.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    await ws.send_json({"type": "error", "code": "bad_frame", "message": str(exc)})
                    continue
                if command["type"] == "ping":
                    await ws.send_json({"type": "pong"})
                else:
                    await events.emit("room.message",
                                      {"room": room, "user": user, "text": command["text"]})
        except WebSocketDisconnect:
            pass  # a normal leave, not an error
        finally:
            if (left := forget(room, ws)) is not None:
                await announce_leave(room, left)
            del user_of[ws]  # only here: a drop keeps it, for this clean-up

    return app
