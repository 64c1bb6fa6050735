"""Exercise 3: chat_broadcasting.

A chat room over WebSockets, driven by ``app.events``. Presence counts users
(not tabs), the broadcast goes to a snapshot with one timeout per send, and a
bad frame costs only its sender.

Design notes:

* One ``asyncio.Lock`` per room serialises everything that reads or changes a
  room: the roster of a new tab, "next seq, then broadcast", and leaves. That
  keeps every member's view of the room in the same order.
* Dropping members is a worklist: a broadcast returns the members whose send
  failed; all of them are forgotten first, then each user that left is
  announced (which may drop more members, which go back on the list).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
DROPPED_CLOSE = 1011


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``.

    Those 65 ASCII characters and no others: not ``ö`` or ``名`` (letters to
    ``\\w`` and ``str.isalnum``), not ``٣`` (a digit to ``\\d``), not a trailing
    newline (which ``$`` lets through). Any other value (None, a number, a
    list, a dict) is False, never an exception.
    """
    if not isinstance(value, str):
        return False
    # fullmatch, not match(r"^...$"): "$" would accept a trailing "\n"
    return NAME.fullmatch(value) is not None


def _short(value: object, limit: int = 40) -> str:
    """A short, sendable quote of a sender's value (repr escapes lone surrogates)."""
    if isinstance(value, str):
        text = repr(value[:limit])
        return text + ("..." if len(value) > limit else "")
    return type(value).__name__


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
    raw = message.get("text") if isinstance(message, Mapping) else None
    if raw is None:
        raise ValueError("binary frames are not accepted: send JSON text frames")
    if not isinstance(raw, str):
        raise ValueError("the frame holds no text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the frame is not JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"the frame is JSON but not an object (a {type(data).__name__})")
    if "type" not in data:
        raise ValueError("the frame has no 'type' field")
    kind = data["type"]
    if not isinstance(kind, str) or kind not in ("ping", "message"):
        raise ValueError(f"unknown type {_short(kind)}: expected 'message' or 'ping'")
    if kind == "ping":
        return {"type": "ping"}
    if "text" not in data:
        raise ValueError("a message needs a 'text' field")
    text = data["text"]
    if not isinstance(text, str):
        raise ValueError(f"the text must be a string, not {type(text).__name__}")
    if not text:
        raise ValueError("the text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text has {len(text)} characters, more than {MAX_TEXT}")
    return {"type": "message", "text": text}


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
        conns = self._rooms.setdefault(room, {}).setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``. True when it was the user's last connection (1 -> 0).

        Leaving with a connection that is not (or no longer) there returns False
        and changes nothing, so a clean close after a failed send never
        announces a leave twice.
        """
        users = self._rooms.get(room)
        if users is None:
            return False
        conns = users.get(user)
        if conns is None or conn not in conns:
            return False
        conns.discard(conn)
        if conns:
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
        return [conn for conns in self._rooms.get(room, {}).values() for conn in conns]


async def _send_one(conn: Any, text: str) -> None:
    await conn.send_text(text)


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
    snapshot = list(conns)  # a list: equal members are still two members
    if not snapshot:
        return []
    text = json.dumps(frame)
    outcomes = await asyncio.gather(
        *(asyncio.wait_for(_send_one(conn, text), timeout) for conn in snapshot),
        return_exceptions=True,
    )
    failed = []
    for conn, outcome in zip(snapshot, outcomes):
        if isinstance(outcome, BaseException):  # raised, or timed out (TimeoutError)
            failed.append(conn)
    return failed


async def _reply(ws: Any, frame: dict[str, Any]) -> bool:
    """Send a frame to one tab; False when that tab is gone."""
    try:
        await ws.send_text(json.dumps(frame))
    except Exception:
        return False
    return True


async def _close(ws: Any, code: int, timeout: float) -> None:
    try:
        await asyncio.wait_for(ws.close(code), timeout)
    except Exception:
        pass  # already gone: nothing to close


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
    presence = Presence()
    seqs: dict[str, int] = {}
    locks: dict[str, asyncio.Lock] = {}
    who: dict[Any, str] = {}  # connection -> its user

    def lock_of(room: str) -> asyncio.Lock:
        lock = locks.get(room)
        if lock is None:
            lock = locks[room] = asyncio.Lock()
        return lock

    async def deliver(room: str, frame: dict[str, Any]) -> None:
        """Broadcast to the room (its lock held); drop and announce failed members."""
        pending = [frame]
        while pending:
            current = pending.pop(0)
            failed = await broadcast(presence.connections(room), current, timeout=send_timeout)
            if not failed:
                continue
            gone: list[str] = []
            for conn in failed:  # forget every one of them first
                user = who.pop(conn, None)
                if user is not None and presence.leave(room, user, conn):
                    gone.append(user)
            await asyncio.gather(*(_close(conn, DROPPED_CLOSE, send_timeout) for conn in failed))
            for user in gone:
                pending.append({"type": "leave", "room": room, "user": user})
                await events.emit("chat.left", {"room": room, "user": user})

    async def on_message(payload: dict[str, Any]) -> None:
        room = payload["room"]
        async with lock_of(room):
            seqs[room] = seqs.get(room, 0) + 1
            frame = {
                "type": "message",
                "room": room,
                "user": payload["user"],
                "text": payload["text"],
                "seq": seqs[room],
            }
            await deliver(room, frame)

    events.on("room.message", on_message)

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room = ws.path_params.get("room")
        user = ws.query_params.get("user")
        problem = None
        if not valid_name(room):
            problem = "the room name must be 1-32 characters of [A-Za-z0-9_.-]"
        elif not valid_name(user):
            problem = "the user name (?user=) must be 1-32 characters of [A-Za-z0-9_.-]"
        if problem is not None:
            await _reply(ws, {"type": "error", "code": "bad_request", "message": problem})
            await _close(ws, BAD_REQUEST_CLOSE, send_timeout)
            return

        async with lock_of(room):
            arrived = presence.join(room, user, ws)
            who[ws] = user
            roster = {"type": "roster", "room": room, "users": presence.roster(room)}
            if not await _reply(ws, roster):
                who.pop(ws, None)
                presence.leave(room, user, ws)
                return
            if arrived:
                await deliver(room, {"type": "join", "room": room, "user": user})
                await events.emit("chat.joined", {"room": room, "user": user})

        try:
            while True:
                message = await ws.receive()
                if message.get("type") == "websocket.disconnect":
                    break
                try:
                    command = parse_frame(message)
                except ValueError as exc:
                    error = str(exc)
                    sent = await _reply(
                        ws, {"type": "error", "code": "bad_frame", "message": error}
                    )
                    await events.emit("ws.error", {"room": room, "user": user, "error": error})
                    if not sent:
                        break
                    continue
                if command["type"] == "ping":
                    if not await _reply(ws, {"type": "pong"}):
                        break
                else:
                    await events.emit(
                        "room.message", {"room": room, "user": user, "text": command["text"]}
                    )
        except WebSocketDisconnect:
            pass  # a normal goodbye
        finally:
            async with lock_of(room):
                who.pop(ws, None)
                if presence.leave(room, user, ws):
                    await deliver(room, {"type": "leave", "room": room, "user": user})
                    await events.emit("chat.left", {"room": room, "user": user})

    return app
