"""Style: closures around per-room deques: sync listeners of ``chat.joined``, ``chat.left`` and ``room.message`` only queue the room's next frames, and whoever holds the room's lock drains the queue, each frame through a ``broadcast`` built on ``asyncio.wait``; presence is a per-room ``Counter`` of users beside a dict of (user, connection) pairs.

Follows: "`join(room, user, conn)` is True on 0 -> 1, `leave(room, user, conn)` True on 1 -> 0
(and harmless twice)" and "A connection is any hashable, counted per room and user" (the
Counter goes 0 -> 1 and 1 -> 0; a (user, conn) pair not there is False and changes nothing;
rooms are separate keys); "serialise once, send to a snapshot of `conns` side by side, each
send bounded by `timeout`; return the members whose send failed or stalled ... a send that
ran out of time is ended (cancelled) by then" (one json.dumps, a task per member,
asyncio.wait(timeout), then the stragglers are cancelled and awaited before returning);
"The new connection's first frame is the roster" and "every connection in the room (the
joiner's too, after its roster) receives `{"type": "join", "room": R, "user": U}`" (join, roster, then the queued join, all
under the room lock, so "A roster is the room as it is when it is sent"); "`N` is a per-room
counter starting at 1 ... it does **not** restart when the room empties" (a Counter of seqs
that is never pruned); "Every member sees a room's frames in the same order" (every frame
of a room, pongs and errors included, goes out under its lock); "give **each send its own
timeout**" and "members dropped by one broadcast leave **together**: forget every one of
them before announcing any of their leaves" (drain forgets all the failed, then emits
chat.left for each, which queues their leaves behind); "the server closes it (code 1011, if
it still can ...)" (a close task per dropped member, errors swallowed one by one); "the
sender gets `{"type": "error", "code": "bad_frame", ...}`; the app emits `ws.error` ...; the
connection **stays open**"; "A normal disconnect ... is a leave, **not** an error"; "A tab can
be gone before its roster is sent ... the tab is gone from the room like one that closed (no
later roster lists it)" (it is forgotten silently); "a dropped or closed member's later
clean-up must not announce the leave twice" (the dropped set, and leave returning False).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter, defaultdict, deque
from collections.abc import Hashable, Iterable
from typing import Any

import day25
from nexios import NexiosApp
from nexios.websockets import WebSocket

NAME = re.compile(r"[A-Za-z0-9_.-]{1,32}")
MAX_TEXT = 2000
BAD_REQUEST_CLOSE = 4400
SEND_TIMEOUT = 2.0  # seconds one member's send may take before that member is dropped


def valid_name(value: object) -> bool:
    """Room and user names: True only for a str of 1-32 characters of ``[A-Za-z0-9_.-]``."""
    return isinstance(value, str) and NAME.fullmatch(value) is not None


def parse_frame(message: dict[str, Any]) -> dict[str, Any]:
    """Turn one received ASGI message into ``{"type": "ping"}`` or ``{"type": "message", "text": T}``."""
    text_frame = message.get("text")
    if text_frame is None:
        raise ValueError("binary frames are not part of the protocol")
    try:
        data = json.loads(text_frame)
    except (ValueError, RecursionError):
        raise ValueError("frame is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValueError("frame must be a JSON object")
    kind = data.get("type")
    if isinstance(kind, str) and kind == "ping":
        return {"type": "ping"}
    if not (isinstance(kind, str) and kind == "message"):
        what = repr(kind[:20]) if isinstance(kind, str) else type(kind).__name__
        raise ValueError(f"type must be 'message' or 'ping', not {what}")
    text = data.get("text")
    if not isinstance(text, str):
        raise ValueError("message text must be a string")
    if len(text) == 0:
        raise ValueError("message text is empty")
    if len(text) > MAX_TEXT:
        raise ValueError(f"message text is longer than {MAX_TEXT} characters")
    return {"type": "message", "text": text}


class Presence:
    """Who is in each room: room -> user -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._users: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self._tabs: defaultdict[str, dict[tuple[str, Hashable], None]] = defaultdict(dict)

    def join(self, room: str, user: str, conn: Hashable) -> bool:
        self._tabs[room][(user, conn)] = None
        self._users[room][user] += 1
        return self._users[room][user] == 1

    def leave(self, room: str, user: str, conn: Hashable) -> bool:
        tabs = self._tabs.get(room)
        if not tabs or (user, conn) not in tabs:
            return False
        del tabs[(user, conn)]
        users = self._users[room]
        users[user] -= 1
        if users[user] > 0:
            return False
        del users[user]
        if not users:
            del self._users[room], self._tabs[room]
        return True

    def roster(self, room: str) -> list[str]:
        return sorted(self._users.get(room, ()))

    def connections(self, room: str) -> list[Hashable]:
        return [conn for _, conn in self._tabs.get(room, ())]


async def broadcast(
    conns: Iterable[Any], frame: dict[str, Any], *, timeout: float = SEND_TIMEOUT
) -> list[Any]:
    """Send ``frame`` to every connection in ``conns``; return those whose send failed."""
    members = list(conns)
    text = json.dumps(frame)

    async def deliver(conn: Any) -> None:
        await conn.send_text(text)

    tasks = {asyncio.ensure_future(deliver(conn)): conn for conn in members}
    if not tasks:
        return []
    _, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    lost = set()
    for task in tasks:
        if task in late or task.cancelled() or task.exception() is not None:
            lost.add(task)
    return [conn for task, conn in tasks.items() if task in lost]


def create_app(*, send_timeout: float = SEND_TIMEOUT) -> NexiosApp:
    """A NexiosApp with a day25 EventBus as ``app.events`` and the ``/chat/{room}`` route."""
    app = NexiosApp()
    bus = day25.install(app)
    presence = Presence()
    locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
    queues: defaultdict[str, deque[dict[str, Any]]] = defaultdict(deque)
    seqs: Counter[str] = Counter()
    owner: dict[Any, str] = {}
    dropped: set[Any] = set()
    closing: set[asyncio.Task[None]] = set()

    # Sync listeners: they only say what the room hears next; drain() sends it.
    def queue_join(event: dict[str, Any]) -> None:
        queues[event["room"]].append({"type": "join", "room": event["room"], "user": event["user"]})

    def queue_leave(event: dict[str, Any]) -> None:
        queues[event["room"]].append({"type": "leave", "room": event["room"], "user": event["user"]})

    def queue_message(event: dict[str, Any]) -> None:
        room = event["room"]
        seqs[room] += 1
        queues[room].append({"type": "message", "room": room, "user": event["user"],
                             "text": event["text"], "seq": seqs[room]})

    bus.on("chat.joined", queue_join)
    bus.on("chat.left", queue_leave)

    async def on_message(event: dict[str, Any]) -> None:
        async with locks[event["room"]]:
            queue_message(event)
            await drain(event["room"])

    bus.on("room.message", on_message)

    async def close_1011(ws: Any) -> None:
        try:
            await asyncio.wait_for(ws.close(1011), send_timeout)
        except Exception:
            pass

    async def expel(room: str, conns: list[Any]) -> None:
        """Lock held: forget all of ``conns``, close them, then announce who left."""
        dropped.update(conns)
        left = [owner[ws] for ws in conns if presence.leave(room, owner[ws], ws)]
        for ws in conns:
            task = asyncio.ensure_future(close_1011(ws))
            closing.add(task)
            task.add_done_callback(closing.discard)
        for user in left:
            await bus.emit("chat.left", {"room": room, "user": user})

    async def drain(room: str) -> None:
        """Lock held: send the room's queued frames in order, each to the room as it is."""
        queue = queues[room]
        while queue:
            failed = await broadcast(presence.connections(room), queue.popleft(),
                                     timeout=send_timeout)
            if failed:
                await expel(room, failed)

    async def tell(room: str, ws: Any, frame: dict[str, Any]) -> bool:
        """One frame for one tab, in its room's order; False (and dropped) if it fails."""
        async with locks[room]:
            if ws in dropped:
                return False
            if await broadcast([ws], frame, timeout=send_timeout):
                await expel(room, [ws])
                await drain(room)
                return False
            return True

    async def listen(room: str, user: str, ws: WebSocket) -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect" or ws in dropped:
                return
            try:
                command = parse_frame(message)
            except ValueError as exc:
                if await tell(room, ws, {"type": "error", "code": "bad_frame", "message": str(exc)}):
                    await bus.emit("ws.error", {"room": room, "user": user, "error": str(exc)})
                    continue
                return
            if command["type"] == "message":
                await bus.emit("room.message", {"room": room, "user": user, "text": command["text"]})
            elif not await tell(room, ws, {"type": "pong"}):
                return

    @app.ws_route("/chat/{room}")
    async def chat(ws: WebSocket) -> None:
        await ws.accept()
        room, user = ws.path_params.get("room"), ws.query_params.get("user")
        bad = [label for label, value in (("room", room), ("user", user)) if not valid_name(value)]
        if bad:
            try:
                await ws.send_text(json.dumps({
                    "type": "error", "code": "bad_request",
                    "message": f"{' and '.join(bad)} must be 1-32 characters of [A-Za-z0-9_.-]"}))
                await ws.close(BAD_REQUEST_CLOSE)
            except Exception:
                pass
            return
        owner[ws] = user
        try:
            async with locks[room]:
                first = presence.join(room, user, ws)
                roster = {"type": "roster", "room": room, "users": presence.roster(room)}
                try:
                    await ws.send_text(json.dumps(roster))
                except Exception:
                    presence.leave(room, user, ws)  # gone before its roster: no one heard of it
                    dropped.add(ws)
                else:
                    if first:
                        await bus.emit("chat.joined", {"room": room, "user": user})
                        await drain(room)
            if ws not in dropped:
                await listen(room, user, ws)
        except Exception:
            pass  # died without a closing handshake: it leaves below
        finally:
            async with locks[room]:
                if presence.leave(room, user, ws):
                    await bus.emit("chat.left", {"room": room, "user": user})
                    await drain(room)
            dropped.discard(ws)
            owner.pop(ws, None)

    return app
