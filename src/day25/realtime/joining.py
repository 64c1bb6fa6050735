"""Joining: let a connection into a room at an exact point of the room's events.

Why it exists: a new member first gets something of its own (the roster; the
backlog of its notifications), then the room's live events, with none missing and
none twice. In one process, "send the roster, then join" can be made atomic with a
lock. With a broker the room's events arrive from a stream while the first frames
are still being sent; dropping them loses events, sending them at once puts them
before the roster.

:class:`Joining` holds them instead: from :meth:`Joining.start` on, everything
:meth:`Joining.broadcast` sends to the room is also kept for the joining
connection; :meth:`Joining.finish` sends what was kept (optionally filtered, e.g.
by ``seq``), and joins the connection to the :class:`~day25.realtime.Rooms` in the
same step as it finds nothing more kept, so nothing falls between the two.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from day25.realtime.rooms import JsonSender, Rooms, SlowConsumer

__all__ = ["Joining"]

C = TypeVar("C", bound=JsonSender)


class Joining(Generic[C]):
    """``joining = Joining(rooms)``: connections on their way into ``rooms``.

    ``limit``: how many events may be kept for one joining connection; one more and
    :meth:`finish` raises :class:`~day25.realtime.SlowConsumer`.
    """

    def __init__(self, rooms: Rooms[C], *, limit: int = 256) -> None:
        self.rooms = rooms
        self.limit = limit
        self._kept: dict[str, dict[C, deque[Any] | None]] = {}  # None: overflowed

    def start(self, room: str, conn: C) -> None:
        """From now on, keep ``room``'s broadcasts for ``conn``."""
        self._kept.setdefault(room, {})[conn] = deque()

    def cancel(self, room: str, conn: C) -> None:
        """Forget ``conn`` (it went away before :meth:`finish`); idempotent."""
        waiting = self._kept.get(room)
        if waiting is not None:
            waiting.pop(conn, None)
            if not waiting:
                del self._kept[room]

    def waiting(self, room: str) -> int:
        """How many connections are on their way into ``room``."""
        return len(self._kept.get(room, ()))

    async def broadcast(self, room: str, message: Any) -> int:
        """Send ``message`` to the room's members and keep it for its joining connections."""
        for conn, kept in self._kept.get(room, {}).items():
            if kept is not None:
                kept.append(message)
                if len(kept) > self.limit:
                    self._kept[room][conn] = None
        return await self.rooms.broadcast(room, message)

    async def finish(
        self,
        room: str,
        conn: C,
        send: Callable[[Any], Awaitable[None]],
        *,
        keep: Callable[[Any], bool] | None = None,
    ) -> None:
        """Send what was kept for ``conn`` (those ``keep`` accepts), then join it.

        :class:`SlowConsumer` if more than ``limit`` were kept; ``KeyError`` if
        :meth:`start` was not called. On any error ``conn`` is forgotten, not joined.
        """
        try:
            while True:
                kept = self._kept[room][conn]
                if kept is None:
                    raise SlowConsumer(f"more than {self.limit} events arrived while joining")
                if not kept:
                    break
                message = kept.popleft()
                if keep is None or keep(message):
                    await send(message)
        except BaseException:
            self.cancel(room, conn)
            raise
        self.cancel(room, conn)
        self.rooms.join(room, conn)  # no await since the last look: nothing can fall between
