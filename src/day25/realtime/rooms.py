"""Rooms: named groups of connections with a broadcast that survives bad members.

Why it exists: Nexios' ``ChannelBox`` keeps its groups in class-level dicts shared
by the whole process, iterates the live dict while sending (a join or leave
mid-send raises "dictionary changed size during iteration"), and one dead socket
aborts the send for every later member. :class:`Rooms` fixes the three:

* state lives on the instance, so two apps (or two tests) never share rooms;
* :meth:`Rooms.broadcast` works on a *snapshot* of the members, so joins and
  leaves while it runs take effect from the next broadcast;
* every send has its own timeout, sends run concurrently, and a member whose send
  fails or hangs is dropped from the room and reported, while everyone else
  still gets the message.

Broadcasts to one room are serialised by a per-room lock, so every member sees
the room's messages in the order they were broadcast.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

__all__ = ["Delivery", "JsonSender", "Rooms"]

logger = logging.getLogger("day25.realtime.rooms")


class JsonSender(Hashable, Protocol):
    """Anything that can send a JSON message: a Nexios ``WebSocket`` is one."""

    async def send_json(self, data: Any, /) -> None: ...


C = TypeVar("C", bound=JsonSender)
DropCallback = Callable[[str, Any, BaseException], Awaitable[None] | None]


class Delivery(NamedTuple, Generic[C]):
    """What one broadcast did: how many members got it, and who was dropped."""

    sent: int
    dropped: tuple[tuple[C, BaseException], ...] = ()


class Rooms(Generic[C]):
    """Rooms of connections; ``await rooms.broadcast(room, message)`` sends to all.

    ``send_timeout`` bounds each member's send (a stalled client cannot hold the
    room). ``on_drop(room, conn, error)`` (sync or async) is called for every
    member a broadcast dropped, after the broadcast, so the caller can run its
    leave logic (presence, a "leave" message) in one place.
    """

    def __init__(self, *, send_timeout: float = 2.0, on_drop: DropCallback | None = None) -> None:
        if send_timeout <= 0:
            raise ValueError(f"send_timeout must be positive, not {send_timeout!r}")
        self.send_timeout = send_timeout
        self.on_drop = on_drop
        self._rooms: dict[str, dict[C, None]] = {}  # dict: a set that keeps join order
        self._locks: dict[str, asyncio.Lock] = {}

    def join(self, room: str, conn: C) -> bool:
        """Add ``conn`` to ``room``; True if it was not a member yet."""
        members = self._rooms.setdefault(room, {})
        if conn in members:
            return False
        members[conn] = None
        return True

    def leave(self, room: str, conn: C) -> bool:
        """Remove ``conn`` from ``room``; True if it was a member (idempotent)."""
        members = self._rooms.get(room)
        if members is None or conn not in members:
            return False
        del members[conn]
        if not members:
            del self._rooms[room]
            self._locks.pop(room, None)
        return True

    def members(self, room: str) -> list[C]:
        """A snapshot of the room's connections, in join order."""
        return list(self._rooms.get(room, ()))

    def rooms(self) -> list[str]:
        """The names of the rooms that have at least one member."""
        return list(self._rooms)

    def __contains__(self, room: object) -> bool:
        return room in self._rooms

    async def broadcast(self, room: str, message: Any) -> int:
        """Send ``message`` to every member; return how many got it.

        Members whose send raised or timed out are removed and reported to
        ``on_drop``; see :meth:`deliver` for the full result.
        """
        return (await self.deliver(room, message)).sent

    async def deliver(self, room: str, message: Any) -> Delivery[C]:
        """Like :meth:`broadcast`, but return who got it and who was dropped."""
        lock = self._locks.setdefault(room, asyncio.Lock())
        async with lock:
            members = self.members(room)
            if not members:
                return Delivery(0)
            outcomes = await asyncio.gather(
                *(self._send(conn, message) for conn in members), return_exceptions=True
            )
        dropped: list[tuple[C, BaseException]] = []
        for conn, outcome in zip(members, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome  # we are being cancelled ourselves: do not swallow it
            if isinstance(outcome, BaseException):
                dropped.append((conn, outcome))
        for conn, error in dropped:
            self.leave(room, conn)
            logger.info("dropped a member of %r whose send failed: %r", room, error)
            await self._report(room, conn, error)
        return Delivery(len(members) - len(dropped), tuple(dropped))

    async def _send(self, conn: C, message: Any) -> None:
        await asyncio.wait_for(conn.send_json(message), self.send_timeout)

    async def _report(self, room: str, conn: C, error: BaseException) -> None:
        if self.on_drop is None:
            return
        try:
            result = self.on_drop(room, conn, error)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.exception("on_drop callback for room %r raised", room)
