"""Presence: which users are in a room, counting people rather than tabs.

Why it exists: a chat that announces "join" for every connection shows a user
with two tabs twice, and says they left when one tab closes. The rule the field
uses (Phoenix Presence, Centrifugo, Pusher) is to track *user -> set of
connections*: a user joins when they go from 0 to 1 connections and leaves when
they go from 1 to 0. :meth:`PresenceTracker.track` and
:meth:`PresenceTracker.untrack` return exactly those transitions, and both are
idempotent, so a clean close and a failed send may both untrack the same
connection without announcing the leave twice.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["PresenceTracker"]

C = TypeVar("C", bound=Hashable)


class PresenceTracker(Generic[C]):
    """Per room: user name -> the set of that user's open connections."""

    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, set[C]]] = {}

    def track(self, room: str, user: str, conn: C) -> bool:
        """Record ``conn`` as one of ``user``'s connections in ``room``.

        True when the user just became present (0 -> 1 connections).
        Tracking the same connection again changes nothing and returns False.
        """
        users = self._rooms.setdefault(room, {})
        conns = users.setdefault(user, set())
        first = not conns
        conns.add(conn)
        return first

    def untrack(self, room: str, user: str, conn: C) -> bool:
        """Forget ``conn``; True when the user just left (1 -> 0 connections).

        Untracking a connection that is not tracked returns False.
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
        """The users present in ``room``, sorted, each once."""
        return sorted(self._rooms.get(room, ()))

    def is_present(self, room: str, user: str) -> bool:
        return user in self._rooms.get(room, {})

    def connections(self, room: str, user: str) -> set[C]:
        """A copy of ``user``'s connections in ``room``."""
        return set(self._rooms.get(room, {}).get(user, ()))

    def user_count(self, room: str) -> int:
        """How many distinct users are in ``room`` (two tabs count once)."""
        return len(self._rooms.get(room, ()))

    def connection_count(self, room: str) -> int:
        """How many connections are in ``room`` (two tabs count twice)."""
        return sum(len(c) for c in self._rooms.get(room, {}).values())

    def rooms(self) -> list[str]:
        return list(self._rooms)
