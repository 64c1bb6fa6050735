"""Rooms: named groups of connections, and a broadcast that no member can hold up.

Why it exists: Nexios' ``ChannelBox`` keeps its groups in class-level dicts shared
by the whole process, iterates the live dict while sending (a join or leave
mid-send raises "dictionary changed size during iteration"), and one dead socket
aborts the send for every later member. :class:`Rooms` fixes the three, and
fans out the way Phoenix and Centrifugo do:

* state lives on the instance, so two apps (or two tests) never share rooms;
* :meth:`Rooms.deliver` works on a *snapshot* of the members, so joins and
  leaves while it runs take effect from the next broadcast;
* the message is serialised to JSON once per broadcast, not once per member;
* each member's send starts at once and usually finishes at once (the socket
  takes the bytes); only a send that actually blocks (the member's TCP buffer is
  full) becomes a task with a timeout, and later messages wait for that member in
  its own bounded *outbox*, so the rest of the room never waits for it;
* a member whose outbox overflows, or whose send stays blocked for
  ``send_timeout`` seconds, is a slow consumer: it is dropped, reported to
  ``on_drop``, and closed with :data:`SLOW_CONSUMER_CLOSE`; a member whose send
  fails is dropped and reported the same way.

Every member receives a room's messages in broadcast order (one connection has
one outbox, whichever rooms it is in). The fan-out itself never awaits, so two
broadcasts to one room cannot interleave and need no lock.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator, Hashable
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

__all__ = [
    "SLOW_CONSUMER_CLOSE", "Delivery", "JsonSender", "Rooms", "SlowConsumer", "frame_text",
]

logger = logging.getLogger("day25.realtime.rooms")

SLOW_CONSUMER_CLOSE = 4408
"""WebSocket close code for a member that did not take its messages in time
(4000 + HTTP 408, like the course's 4400 for a bad request)."""


class JsonSender(Hashable, Protocol):
    """Anything that can send a JSON message: a Nexios ``WebSocket`` is one.

    A connection that also has ``send_text(str)`` (a Nexios ``WebSocket`` does) is
    sent the JSON text serialised once per broadcast; a ``close(code, reason)``
    method is used to close a slow consumer.
    """

    async def send_json(self, data: Any, /) -> None: ...


C = TypeVar("C", bound=JsonSender)
DropCallback = Callable[[str, Any, BaseException], Awaitable[None] | None]
Send = Callable[[Any], Coroutine[Any, Any, None]]


class SlowConsumer(TimeoutError):
    """A member did not take its messages in time: its outbox overflowed, or one
    send stayed blocked for longer than ``send_timeout``."""


class Delivery(NamedTuple, Generic[C]):
    """What one broadcast did: how many members got it, and who was dropped.

    ``sent`` counts the members that took the message or hold it in their outbox;
    ``dropped`` the members this broadcast removed (their send failed at once, or
    their outbox was full). A member that turns out to be slow later is reported
    to ``on_drop`` when that happens.
    """

    sent: int
    dropped: tuple[tuple[C, BaseException], ...] = ()


def frame_text(message: Any) -> str:
    """``message`` as one JSON text frame: UTF-8 as is, but a lone surrogate (a JSON
    string may hold ``"\\ud800"``; no UTF-8 can) written back as its escape, or the send
    of the frame fails for every member."""
    text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(message, separators=(",", ":"))
    return text


class _Member:
    """One connection: the rooms it is in, its outbox, and its writer while blocked."""

    __slots__ = ("conn", "dropped", "outbox", "rooms", "send", "text", "writer")

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        send_text = getattr(conn, "send_text", None)
        self.text = callable(send_text)
        self.send: Send = cast(Send, send_text if self.text else conn.send_json)
        self.rooms: set[str] = set()
        self.outbox: deque[Any] = deque()
        self.writer: asyncio.Task[None] | None = None
        self.dropped = False


class Rooms(Generic[C]):
    """Rooms of connections; ``await rooms.broadcast(room, message)`` sends to all.

    ``send_timeout``: how long one send may stay blocked before the member counts
    as slow. ``outbox_size``: how many messages may wait for a member whose send
    is blocked; one more and it counts as slow. ``on_drop(room, conn, error)``
    (sync or async) is called for every member dropped from a room, so the caller
    can run its leave logic (presence, a "leave" message) in one place.
    """

    def __init__(
        self,
        *,
        send_timeout: float = 2.0,
        outbox_size: int = 256,
        on_drop: DropCallback | None = None,
    ) -> None:
        if send_timeout <= 0:
            raise ValueError(f"send_timeout must be positive, not {send_timeout!r}")
        if isinstance(outbox_size, bool) or not isinstance(outbox_size, int) or outbox_size < 1:
            raise ValueError(f"outbox_size must be a positive int, not {outbox_size!r}")
        self.send_timeout = send_timeout
        self.outbox_size = outbox_size
        self.on_drop = on_drop
        self._rooms: dict[str, dict[C, _Member]] = {}  # conn -> its record, in join order
        self._members: dict[C, _Member] = {}
        self._closing: set[asyncio.Task[None]] = set()

    def join(self, room: str, conn: C) -> bool:
        """Add ``conn`` to ``room``; True if it was not a member yet."""
        members = self._rooms.setdefault(room, {})
        if conn in members:
            return False
        member = self._members.get(conn)
        if member is None:
            member = self._members[conn] = _Member(conn)
        member.rooms.add(room)
        members[conn] = member
        return True

    def leave(self, room: str, conn: C) -> bool:
        """Remove ``conn`` from ``room``; True if it was a member (idempotent).

        Messages already in its outbox are still sent (they were broadcast while
        it was a member).
        """
        members = self._rooms.get(room)
        if members is None or conn not in members:
            return False
        del members[conn]
        if not members:
            del self._rooms[room]
        member = self._members[conn]
        member.rooms.discard(room)
        if not member.rooms and member.writer is None:
            del self._members[conn]
        return True

    def members(self, room: str) -> list[C]:
        """A snapshot of the room's connections, in join order."""
        return list(self._rooms.get(room, ()))

    def rooms(self) -> list[str]:
        """The names of the rooms that have at least one member."""
        return list(self._rooms)

    def __contains__(self, room: object) -> bool:
        return room in self._rooms

    def queued(self, conn: C) -> int:
        """How many messages wait in ``conn``'s outbox (0 when its sends keep up)."""
        member = self._members.get(conn)
        return len(member.outbox) if member is not None else 0

    async def broadcast(self, room: str, message: Any) -> int:
        """Send ``message`` to every member; return how many took it (see :meth:`deliver`)."""
        return (await self.deliver(room, message)).sent

    async def deliver(self, room: str, message: Any) -> Delivery[C]:
        """Send ``message`` to a snapshot of the room; say who took it and who was dropped."""
        members = self._rooms.get(room)
        if not members:
            return Delivery(0)
        text: str | None = None
        sent = 0
        dropped: list[tuple[_Member, BaseException]] = []
        for member in list(members.values()):
            if member.text:
                if text is None:
                    text = frame_text(message)
                item: Any = text
            else:
                item = message
            if member.writer is not None:  # blocked: wait in line, or overflow
                if len(member.outbox) >= self.outbox_size:
                    dropped.append((member, SlowConsumer(f"{self.outbox_size} messages waiting")))
                else:
                    member.outbox.append(item)
                    sent += 1
                continue
            # Start the send here and now: it almost always finishes in this one step
            # (the socket takes the bytes). Only one that waits becomes a task.
            sending = member.send(item)
            try:
                waiting_on = sending.send(None)
            except StopIteration:
                sent += 1
                continue
            except Exception as exc:  # the send failed at once: a dead connection
                dropped.append((member, exc))
                continue
            sent += 1
            member.writer = asyncio.get_running_loop().create_task(
                self._write(member, sending, waiting_on), name=f"day25-rooms-writer:{room}"
            )
        for member, error in dropped:
            await self._drop(member, error)
        return Delivery(sent, tuple((m.conn, e) for m, e in dropped))

    async def flush(self) -> None:
        """Wait until every outbox is empty (sent, or its member dropped)."""
        while writers := [m.writer for m in self._members.values() if m.writer is not None]:
            await asyncio.gather(*writers, return_exceptions=True)

    async def _write(self, member: _Member, coro: Coroutine[Any, Any, Any], yielded: Any) -> None:
        """Finish the blocked send, then empty the outbox; every send has a timeout."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.send_timeout) as deadline:
                await _resume(coro, yielded)
                while member.outbox:
                    deadline.reschedule(loop.time() + self.send_timeout)  # per send
                    await member.send(member.outbox.popleft())
        except TimeoutError:
            member.writer = None
            await self._drop(member, SlowConsumer(f"a send blocked for {self.send_timeout} s"))
        except Exception as exc:
            member.writer = None
            await self._drop(member, exc)
        finally:
            member.writer = None
            if not member.rooms and self._members.get(member.conn) is member:
                del self._members[member.conn]

    async def _drop(self, member: _Member, error: BaseException) -> None:
        """Remove the member from all its rooms (once), close it if slow, report it."""
        if member.dropped:
            return
        member.dropped = True
        rooms = sorted(member.rooms)
        for room in rooms:
            self.leave(room, member.conn)
        self._members.pop(member.conn, None)
        member.outbox.clear()
        writer, member.writer = member.writer, None
        if writer is not None and writer is not asyncio.current_task():
            writer.cancel()
        if isinstance(error, SlowConsumer):
            self._close_later(member.conn)
        for room in rooms:
            logger.info("dropped a member of %r: %r", room, error)
            await self._report(room, member.conn, error)

    def _close_later(self, conn: C) -> None:
        close = getattr(conn, "close", None)
        if not callable(close):
            return

        async def closing() -> None:
            try:
                async with asyncio.timeout(max(self.send_timeout, 1.0)):
                    await close(SLOW_CONSUMER_CLOSE, "slow consumer")
            except Exception as exc:  # already closed, or its buffer never drains
                logger.info("closing a slow consumer failed: %r", exc)

        task = asyncio.get_running_loop().create_task(closing())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _report(self, room: str, conn: C, error: BaseException) -> None:
        if self.on_drop is None:
            return
        try:
            result = self.on_drop(room, conn, error)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("on_drop callback for room %r raised", room)


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], yielded: Any) -> Generator[Any, Any, None]:
    """Go on with a coroutine that :meth:`Rooms.deliver` started by hand and left
    waiting on ``yielded``.

    Awaited inside a task, it hands ``yielded`` to the task (which wakes it when
    that future is done) and passes values and exceptions (cancellation) through,
    as ``await`` would have. Why by hand: a task per send costs more than the send
    itself when the socket takes the bytes at once, which is almost always
    (Python 3.12's eager tasks do the same; the course runs on 3.11).
    """
    while True:
        try:
            value = yield yielded
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as exc:
            try:
                yielded = coro.throw(exc)
            except StopIteration:
                return
        else:
            try:
                yielded = coro.send(value)
            except StopIteration:
                return
