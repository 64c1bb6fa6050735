"""Exercise 3: chat_broadcasting, written with a per-room worker task and an asyncio.wait broadcast.

Style: every room owns a queue of jobs (a newcomer's entry, a message, a tab
that leaves, a tab that failed its own frame) and at most one worker task that
runs them one at a time, so a room needs no lock: what its members see is the
order of its queue. The worker starts when a job arrives and ends when the
queue is empty, so an idle room holds no task. ``broadcast`` starts one task per
member and gives them all one ``asyncio.wait(..., timeout=...)``; what is still
pending then is cancelled and counted as stalled. Presence is kept as counters:
per room, the set of (user, connection) pairs and a ``Counter`` of tabs per user.

Why it meets the text:

* names: a ``str`` of 1-32 characters, each in a frozenset of the 64 allowed
  ASCII characters (no regex, so no trailing-newline trap);
* frames: ``json.loads`` errors (ValueError and RecursionError) become
  ``ValueError``; a ``match`` on the decoded object compares ``type`` with
  ``==`` (a list or an object is simply no match), and messages quote only
  short ``repr`` slices of strings;
* presence: a tab is counted once; join is True on 0 -> 1, leave True on 1 -> 0,
  and leaving with an unknown tab returns False and changes nothing;
* order and seq: the room's worker assigns ``seq`` (never reset, kept per room
  for as long as the app runs) and broadcasts in the same job;
* robustness: the broadcast works on ``list(conns)``, serialises once with
  ``json.dumps`` and waits one ``timeout`` however many members stall; the
  worker forgets every failed member before announcing any leave, forgets the
  members a leave broadcast loses before the next announcement, and closes the
  dropped tabs with 1011 in the background (one whose send raised is already
  gone, and refusing is fine); a later clean-up finds nothing to announce;
* errors: a bad frame gets ``bad_frame`` and ``ws.error`` and the loop reads on;
  a ``websocket.disconnect`` message or ``WebSocketDisconnect`` ends it quietly.
"""

from __future__ import annotations

import asyncio
import json
import re
import string
from collections import Counter, deque
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping
from typing import Any

from nexios import NexiosApp
from nexios.websockets import WebSocket, WebSocketDisconnect

import day25

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped
DROPPED = 1011
NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_.-")


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``.

    Those 64 ASCII characters and no others: no letters outside ASCII, and no
    newline, trailing or not.
    """
    if not isinstance(value, str) or not 1 <= len(value) <= 32:
        return False
    return all(char in NAME_CHARS for char in value)


def _shown(value: str) -> str:
    """A client's string as an error message may quote it: escaped by repr, and short."""
    return repr(value[:32]) + ("..." if len(value) > 32 else "")


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``.

    Raise ``ValueError`` saying what is wrong for a binary frame, text that is
    not JSON (whatever ``json.loads`` refuses, with ValueError or
    RecursionError), JSON that is not an object, a missing or unknown ``type``,
    or a ``text`` that is not a non-empty str of at most MAX_TEXT characters.
    Never raise anything else. Other fields are ignored.
    """
    raw = message.get("text") if isinstance(message, Mapping) else None
    if not isinstance(raw, str):
        raise ValueError("binary frame: frames must be JSON text")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not JSON ({type(exc).__name__})") from None
    match data:
        case {"type": "ping"}:
            return {"type": "ping"}
        case {"type": "message", "text": str() as text} if 0 < len(text) <= MAX_TEXT:
            return {"type": "message", "text": text}
        case {"type": "message", "text": str() as text} if not text:
            raise ValueError("the text is empty")
        case {"type": "message", "text": str() as text}:
            raise ValueError(f"the text is {len(text)} characters long, at most {MAX_TEXT} allowed")
        case {"type": "message", "text": other}:
            raise ValueError(f"the text must be a string, not {type(other).__name__}")
        case {"type": "message"}:
            raise ValueError("a message needs a text")
        case {"type": str() as kind}:
            raise ValueError(f"unknown type {_shown(kind)}")
        case {"type": other}:
            raise ValueError(f"unknown type: {type(other).__name__} is not 'message' or 'ping'")
        case dict():
            raise ValueError("the frame has no type")
        case _:
            raise ValueError(f"a frame must be a JSON object, not {type(data).__name__}")


class Presence:
    """Who is in each room, kept as counters: per room, its (user, connection) pairs
    and how many tabs each user has open.

    A user with two tabs is one user: they join when their first connection
    opens and leave when their last one closes.
    """

    def __init__(self) -> None:
        self._pairs: dict[str, dict[tuple[str, Hashable], None]] = {}
        self._tabs: dict[str, Counter[str]] = {}

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        """Add ``conn`` to ``user``'s connections in ``room``; True on 0 -> 1 connections."""
        pairs = self._pairs.setdefault(room, {})
        if (user, conn) in pairs:
            return False
        pairs[(user, conn)] = None
        tabs = self._tabs.setdefault(room, Counter())
        tabs[user] += 1
        return tabs[user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was the user's last connection (1 -> 0).

        A connection that is not (or no longer) there returns False and changes nothing.
        """
        pairs = self._pairs.get(room)
        if pairs is None or (user, conn) not in pairs:
            return False
        del pairs[(user, conn)]
        tabs = self._tabs[room]
        tabs[user] -= 1
        if tabs[user] > 0:
            return False
        del tabs[user]
        if not pairs:
            del self._pairs[room]
            del self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        """The users in ``room``: sorted, each once (an empty room: ``[]``)."""
        return sorted(self._tabs.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        """A new list of every open connection in ``room`` (every tab of every user)."""
        return [conn for _user, conn in self._pairs.get(room, {})]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed.

    Serialised once with ``json.dumps``, sent with ``send_text`` to a snapshot
    of ``conns``, every send its own task, all given the same ``timeout`` by one
    ``asyncio.wait``: a send that raised or is still pending then is a failure
    (the pending ones are cancelled). The others have their frame by the time
    the failures come back, in snapshot order.
    """
    snapshot = list(conns)
    if not snapshot:
        return []
    text = json.dumps(frame)

    async def send(conn: Any) -> None:
        await conn.send_text(text)

    tasks = [asyncio.ensure_future(send(conn)) for conn in snapshot]
    try:
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        raise
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending)
    return [conn for conn, task in zip(snapshot, tasks)
            if task.cancelled() or task.exception() is not None]


class Tab:
    """One open connection of a user in a room (identity-hashed)."""

    __slots__ = ("ws", "room", "user", "out")

    def __init__(self, ws: WebSocket, room: str, user: str) -> None:
        self.ws, self.room, self.user = ws, room, user
        self.out = False  # dropped or gone: no longer a member

    async def send_text(self, text: str) -> None:
        await self.ws.send_text(text)


class Room:
    """One room's queue of jobs, its worker (while there is work) and its seq."""

    __slots__ = ("name", "jobs", "worker", "seq")

    def __init__(self, name: str) -> None:
        self.name = name
        self.jobs: deque[tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any]]] = deque()
        self.worker: asyncio.Task[None] | None = None
        self.seq = 0


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route.

    Each room's jobs run in order in that room's worker task: a newcomer's
    roster and join, every message (with the next seq), every leave. Members
    whose send failed or took longer than ``send_timeout`` are forgotten
    together, then announced, and closed with 1011 when they still can be.
    """
    app = NexiosApp()
    events = day25.install(app)
    presence = Presence()
    rooms: dict[str, Room] = {}
    background: set[asyncio.Task[None]] = set()

    # -- the per-room worker ------------------------------------------------------
    async def work(room: Room) -> None:
        done: asyncio.Future[Any] | None = None
        try:
            while room.jobs:
                job, done = room.jobs.popleft()
                try:
                    result = await job()
                except Exception:  # a job never takes the worker down (nor its caller)
                    result = None
                if not done.done():
                    done.set_result(result)
        except asyncio.CancelledError:  # the app is shutting down: nobody waits forever
            for _job, waiting in (*room.jobs, (None, done)):
                if waiting is not None and not waiting.done():
                    waiting.cancel()
            room.jobs.clear()
            raise
        finally:
            room.worker = None

    def submit(name: str, job: Callable[[], Awaitable[Any]]) -> asyncio.Future[Any]:
        room = rooms.get(name)
        if room is None:
            room = rooms[name] = Room(name)
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        room.jobs.append((job, done))
        if room.worker is None:
            room.worker = asyncio.get_running_loop().create_task(work(room))
        return done

    # -- what the jobs do (always inside the room's worker) -------------------------
    def close_dropped(tabs: list[Tab]) -> None:
        async def close(tab: Tab) -> None:
            try:
                await asyncio.wait_for(tab.ws.close(DROPPED), send_timeout)
            except Exception:  # gone already (its send raised), or the close stalled
                pass

        for tab in tabs:
            task = asyncio.get_running_loop().create_task(close(tab))
            background.add(task)
            task.add_done_callback(background.discard)

    async def remove(name: str, tabs: Iterable[Any], *, close: bool) -> None:
        """Forget all of ``tabs`` first, then announce each user that left."""
        leaving: deque[str] = deque()
        to_close: list[Tab] = []

        def forget(batch: Iterable[Any], closing: bool) -> None:
            for tab in batch:
                if not isinstance(tab, Tab):
                    continue
                if closing and not tab.out:
                    to_close.append(tab)
                tab.out = True
                if presence.leave(name, tab.user, tab):
                    leaving.append(tab.user)

        forget(tabs, close)
        while leaving:
            user = leaving.popleft()
            await events.emit("chat.left", {"room": name, "user": user})
            lost = await broadcast(presence.connections(name),
                                   {"type": "leave", "room": name, "user": user},
                                   timeout=send_timeout)
            forget(lost, True)
        close_dropped(to_close)

    async def announce(name: str, frame: dict[str, Any]) -> None:
        lost = await broadcast(presence.connections(name), frame, timeout=send_timeout)
        if lost:
            await remove(name, lost, close=True)

    async def own_frame(tab: Tab, frame: dict[str, Any]) -> bool:
        return not await broadcast([tab], frame, timeout=send_timeout)

    async def enter(tab: Tab) -> bool:
        name, user = tab.room, tab.user
        roster = sorted({*presence.roster(name), user})
        if not await own_frame(tab, {"type": "roster", "room": name, "users": roster}):
            tab.out = True
            close_dropped([tab])
            return False
        if presence.join(name, user, tab):
            await events.emit("chat.joined", {"room": name, "user": user})
            await announce(name, {"type": "join", "room": name, "user": user})
        return not tab.out

    # -- the listener ------------------------------------------------------------------
    async def relay(payload: Any) -> None:
        try:
            name, user, text = payload["room"], payload["user"], payload["text"]
            room_key = str(name)
        except Exception:
            return

        async def job() -> None:
            room = rooms[room_key]
            room.seq += 1
            await announce(name, {"type": "message", "room": name, "user": user,
                                  "text": text, "seq": room.seq})

        await asyncio.shield(submit(room_key, job))

    events.on("room.message", relay)

    # -- the route ---------------------------------------------------------------------
    def what_is_wrong(room: Any, user: Any) -> str | None:
        if not room:
            return "no room given: connect to /chat/ROOM?user=NAME"
        if not valid_name(room):
            return f"invalid room {_shown(str(room))}: 1-32 of A-Z a-z 0-9 _ . -"
        if not user:
            return "no user given: connect with ?user=NAME"
        if not valid_name(user):
            return f"invalid user {_shown(str(user))}: 1-32 of A-Z a-z 0-9 _ . -"
        return None

    async def refuse(ws: WebSocket, why: str) -> None:
        try:
            await asyncio.wait_for(ws.send_text(json.dumps(
                {"type": "error", "code": "bad_request", "message": why})), send_timeout)
        except Exception:
            pass
        try:
            await asyncio.wait_for(ws.close(BAD_REQUEST_CLOSE), send_timeout)
        except Exception:
            pass

    async def receive_loop(tab: Tab) -> None:
        ws, name, user = tab.ws, tab.room, tab.user
        while True:
            message = await ws.receive()
            if message.get("type") == "websocket.disconnect" or tab.out:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                reason = str(exc)
                await events.emit("ws.error", {"room": name, "user": user, "error": reason})
                reply: dict[str, Any] = {"type": "error", "code": "bad_frame", "message": reason}
            else:
                if command["type"] == "message":
                    await events.emit("room.message",
                                      {"room": name, "user": user, "text": command["text"]})
                    continue
                reply = {"type": "pong"}
            if not await own_frame(tab, reply):
                await submit(name, lambda: remove(name, [tab], close=True))
                return

    async def chat(ws: WebSocket, room: Any) -> None:
        try:
            await ws.accept()
        except Exception:
            return
        user = ws.query_params.get("user")
        why = what_is_wrong(room, user)
        if why is not None:
            await refuse(ws, why)
            return
        tab = Tab(ws, room, user)
        try:
            if await submit(room, lambda: enter(tab)):
                await receive_loop(tab)
        except WebSocketDisconnect:
            pass  # a goodbye, not an error
        except Exception:
            pass  # over either way; the leave below is all that remains to do
        finally:
            # a tab that never got in (or was dropped already) makes this a no-op
            await asyncio.shield(submit(room, lambda: remove(room, [tab], close=False)))

    @app.ws_route("/chat/{room}")
    async def chat_room(ws: WebSocket) -> None:
        await chat(ws, ws.path_params.get("room"))

    # what the route above cannot match is refused with 4400 too: an empty room, a room
    # holding "/", no room at all (these come second, so that "/chat/lobby%0A" still
    # reaches the exact route with its newline, which "{room:path}" would cut off)
    @app.ws_route("/chat/{rest:path}")
    async def chat_other(ws: WebSocket) -> None:
        await chat(ws, ws.path_params.get("rest"))

    @app.ws_route("/chat")
    async def chat_no_room(ws: WebSocket) -> None:
        await chat(ws, None)

    return app
