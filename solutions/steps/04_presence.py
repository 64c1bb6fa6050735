"""Step 4 (presence): a user joins on their first connection and leaves on their last.

One idea, on the way to Exercise 3 (chat_broadcasting): two tabs of one user
are one user. Write ``Presence`` for one room; check with
``day25 check presence``.
"""

from __future__ import annotations

from collections.abc import Hashable


class Presence:
    """The users in one room, each with the set of their open connections."""

    def __init__(self) -> None:
        self._users: dict[str, set[Hashable]] = {}

    def join(self, user: str, conn: Hashable) -> bool:
        """Add ``conn``; True when ``user`` just arrived (0 -> 1 connections)."""
        conns = self._users.setdefault(user, set())
        arrived = not conns
        conns.add(conn)
        return arrived

    def leave(self, user: str, conn: Hashable) -> bool:
        """Remove ``conn``; True when it was ``user``'s last one (1 -> 0).

        A connection that is not (or no longer) there: False, nothing changes.
        """
        conns = self._users.get(user)
        if conns is None or conn not in conns:
            return False
        conns.remove(conn)
        if conns:
            return False
        del self._users[user]
        return True

    def roster(self) -> list[str]:
        """The users present, sorted, each once."""
        return sorted(self._users)
