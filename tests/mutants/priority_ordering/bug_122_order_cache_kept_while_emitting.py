"""Bug: the cached call order of an event is not dropped by `on`/`off` while that event is being emitted (only when its last running emit ends), so an emit of the same event that starts meanwhile (an inner emit from a listener, or a concurrent one) reuses the outer emit's stale order.

Breaks: "a listener may `await emitter.emit(...)`, of another event or of the same one. That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" ... A listener of `"e"` that calls `on("e", late)` and then `await emit("e", 2)` (once) should see `late(2)` run in that inner emit; here the inner emit uses the cached order from before the `on`, so `late` does not run until the next top-level emit (an `off` made there is likewise ignored by the inner emit).
"""

from __future__ import annotations

import inspect
import itertools
from collections import Counter
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order_cache: dict[str, tuple[Callable[..., Any], ...]] = {}
        self._emitting: Counter[str] = Counter()
        self._stale: set[str] = set()
        self._numbers = itertools.count()

    def _invalidate(self, event: str) -> None:
        if self._emitting[event]:
            # the running emit keeps its order; drop the cache when it is over
            self._stale.add(event)
        else:
            self._order_cache.pop(event, None)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registrations.setdefault(event, []).append(
            (-int(priority), next(self._numbers), handler)
        )
        self._invalidate(event)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._registrations.get(event)
        if not registrations:
            return
        kept = [r for r in registrations if not r[2] == handler]
        if len(kept) != len(registrations):
            self._registrations[event] = kept
            self._invalidate(event)

    def _order(self, event: str) -> tuple[Callable[..., Any], ...]:
        order = self._order_cache.get(event)
        if order is None:
            ranked = sorted(self._registrations.get(event, ()), key=lambda r: (r[0], r[1]))
            order = self._order_cache[event] = tuple(r[2] for r in ranked)
        return order

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        order = self._order(event)
        self._emitting[event] += 1
        try:
            for handler in order:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._emitting[event] -= 1
            if not self._emitting[event]:
                del self._emitting[event]
                if event in self._stale:
                    self._stale.discard(event)
                    self._order_cache.pop(event, None)
