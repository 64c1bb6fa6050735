"""Bug: the sorted listener order is cached in a module-level dict keyed by (id of the emitter, event, version), so a new emitter that reuses a dead one's id gets the dead emitter's listeners.

Breaks: "`on(event, handler, priority=EventPriority.MEDIUM) -> handler` | registers `handler` for `event`" and "`async emit(event, *args, **kwargs) -> None` | calls every listener of `event`" (a fresh emitter must call its own listeners, and nothing for an event nobody listens to on it).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

# Module-level so the cache does not keep emitters alive (an lru_cache on a
# method would hold a strong reference to self).
_ORDER_CACHE: dict[tuple[int, str, int], tuple[Callable[..., Any], ...]] = {}


class PriorityEmitter:
    """Registrations per event plus a version number that on/off bump."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._versions: dict[str, int] = {}
        self._next = 0

    def _touch(self, event: str) -> None:
        self._versions[event] = self._versions.get(event, 0) + 1

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._next += 1
        self._registrations.setdefault(event, []).append((int(priority), self._next, handler))
        self._touch(event)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self._registrations.get(event)
        if not regs:
            return
        kept = [r for r in regs if r[2] != handler]
        if len(kept) != len(regs):
            self._registrations[event] = kept
            self._touch(event)

    def _ordered(self, event: str) -> tuple[Callable[..., Any], ...]:
        key = (id(self), event, self._versions.get(event, 0))
        cached = _ORDER_CACHE.get(key)
        if cached is None:
            regs = sorted(self._registrations.get(event, ()), key=lambda r: (-r[0], r[1]))
            cached = _ORDER_CACHE[key] = tuple(r[2] for r in regs)
        return cached

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in self._ordered(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
