"""Per-name state that does not grow for ever.

Why it exists: a server keyed by names its clients choose (rooms, users) must
not keep something for every name it has ever seen: a client that invents a
new name per request would grow its memory until it dies. The two shapes the
course needs:

* :class:`IdleCache`: a value worth keeping for a while after its name stops
  being used (a room's message counter, so a room that empties for a moment
  goes on counting), for at most ``ttl`` seconds and at most ``capacity``
  names, the least recently parked going first;
* :class:`NameLocks`: one :class:`asyncio.Lock` per name, which exists only
  while somebody holds it or waits for it.

State for names *in use* (open connections) is bounded by the connections
themselves; these two bound the rest.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

__all__ = ["IdleCache", "NameLocks"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class IdleCache(Generic[K, V]):
    """Values of names not in use: ``put`` when a name goes idle, ``pop`` when it is
    used again. An entry lives ``ttl`` seconds; past ``capacity`` the oldest goes."""

    def __init__(
        self, *, ttl: float, capacity: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not ttl > 0:
            raise ValueError(f"ttl must be positive, not {ttl!r}")
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
            raise ValueError(f"capacity must be a positive int, not {capacity!r}")
        self.ttl = ttl
        self.capacity = capacity
        self.clock = clock
        self._entries: OrderedDict[K, tuple[V, float]] = OrderedDict()

    def put(self, key: K, value: V) -> None:
        """Park ``value`` under ``key`` (the newest entry), then evict what is due."""
        self._entries[key] = (value, self.clock() + self.ttl)
        self._entries.move_to_end(key)
        self._evict()

    def get(self, key: K, default: V) -> V:
        """``key``'s value if it is parked and not expired, else ``default``."""
        entry = self._entries.get(key)
        if entry is None or entry[1] <= self.clock():
            return default
        return entry[0]

    def pop(self, key: K, default: V) -> V:
        """Take ``key``'s value back out (it is in use again), or ``default``."""
        entry = self._entries.pop(key, None)
        if entry is None or entry[1] <= self.clock():
            return default
        return entry[0]

    def __len__(self) -> int:
        self._evict()
        return len(self._entries)

    def _evict(self) -> None:
        now = self.clock()
        entries = self._entries
        while entries:
            key, (_, expires) = next(iter(entries.items()))
            if expires > now and len(entries) <= self.capacity:
                break
            del entries[key]


class NameLocks:
    """``async with locks.hold(name): ...``: one lock per name, dropped when unused."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(name, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._locks[name] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[name]
            if users == 1:
                del self._locks[name]
            else:
                self._locks[name] = (lock, users - 1)

    def __len__(self) -> int:
        """How many names have a lock right now (held or waited for)."""
        return len(self._locks)
