"""OfflineQueue: an ordered, capped, expiring log of notifications per user.

Why it exists: a user who is offline when a notification is created must get it
when they come back, in order, and exactly the ones they have not acknowledged
(at-least-once; clients de-duplicate by id). The rules follow MQTT persistent
sessions and FCM:

* every notification gets a unique id (uuid4 hex) and the user's next sequence
  number, which keeps increasing across restarts with a durable store;
* :meth:`OfflineQueue.pending` returns the unacknowledged, unexpired ones in seq
  order; :meth:`OfflineQueue.ack` removes them for good;
* a notification older than ``ttl_seconds`` is never returned and is purged;
* at most ``max_per_user`` are kept per user; the overflow rule is *drop the
  oldest* (lowest seq), and :meth:`OfflineQueue.push` reports what it dropped.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from day25.realtime.stores import Notification, NotificationStore, SQLiteStore

__all__ = ["OfflineQueue", "Pushed"]


class Pushed(NamedTuple):
    """The stored notification and the older ones the cap dropped for it."""

    notification: Notification
    dropped: tuple[Notification, ...] = ()


class OfflineQueue:
    """Per-user notification queue over a :class:`NotificationStore`.

    ``store`` defaults to ``SQLiteStore("notifications.sqlite3")``.
    ``clock`` returns seconds (``time.time`` by default); tests may pass their own.
    """

    def __init__(
        self,
        store: NotificationStore | None = None,
        *,
        ttl_seconds: float = 86400.0,
        max_per_user: int = 100,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not ttl_seconds > 0:
            raise ValueError(f"ttl_seconds must be positive, not {ttl_seconds!r}")
        if isinstance(max_per_user, bool) or not isinstance(max_per_user, int) or max_per_user < 1:
            raise ValueError(f"max_per_user must be a positive int, not {max_per_user!r}")
        self.store: NotificationStore = (
            store if store is not None else SQLiteStore("notifications.sqlite3")
        )
        self.ttl_seconds = float(ttl_seconds)
        self.max_per_user = max_per_user
        self.clock = clock

    def push(self, user: str, payload: dict[str, Any]) -> Notification:
        """Store ``payload`` for ``user``; return it with its id and seq."""
        return self.push_report(user, payload).notification

    def push_report(self, user: str, payload: dict[str, Any]) -> Pushed:
        """Like :meth:`push`, and also say which old notifications the cap dropped."""
        now = self.clock()
        self.store.purge(now)  # expired ones must not count against the cap
        note = self.store.append(user, uuid.uuid4().hex, payload, now, now + self.ttl_seconds)
        dropped = self.store.trim(user, self.max_per_user)
        return Pushed(note, tuple(dropped))

    def pending(self, user: str) -> list[Notification]:
        """Unacknowledged, unexpired notifications of ``user``, in seq order."""
        return self.store.pending(user, self.clock())

    def ack(self, user: str, ids: Iterable[str]) -> int:
        """Acknowledge: these are never delivered again. Returns how many of them were
        pending: an expired one counts 0 whether or not it was purged yet (so it is
        purged first, as :meth:`push_report` does before it counts against the cap)."""
        self.store.purge(self.clock())
        return self.store.ack(user, [str(i) for i in ids])

    def purge_expired(self) -> int:
        """Delete every expired notification; return how many went."""
        return self.store.purge(self.clock())

    def close(self) -> None:
        self.store.close()
