"""Exercise 1: priority_ordering. Registrations kept as entered; each event has a cached call-order list, marked stale by ``on``/``off`` and refreshed by the next ``emit``.

BUG (planted): "That inner emit is an emit like any other (its own snapshot, taken when it
starts; its listeners in order)" and "Two emits may also run at the same time [...]: each
calls every listener of its own snapshot". The list an emit walks is the emitter's
cached order list of that event, one per emitter and event rather than one per emit:
when a later emit of the same event finds it stale it refreshes it in place
(``clear()`` + ``extend()``), so an outer or concurrent emit still walking that list
suddenly walks the new contents (a listener added after it started runs in it, one
removed is skipped). A student writes it to avoid building a list on every emit; with
one emit at a time, or nested emits with no change in between, the cache is exact.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[tuple[int, int, Handler]]] = {}
        self._order: dict[str, list[Handler]] = {}  # event -> handlers, call order
        self._stale: set[str] = set()
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registrations.setdefault(event, []).append(
            (int(priority), next(self._counter), handler)
        )
        self._stale.add(event)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._registrations:
            return
        self._registrations[event] = [
            r for r in self._registrations[event] if not r[2] == handler
        ]
        self._stale.add(event)

    def _listeners(self, event: str) -> list[Handler]:
        order = self._order.setdefault(event, [])
        if event in self._stale:
            ranked = sorted(self._registrations.get(event, ()), key=lambda r: (-r[0], r[1]))
            order.clear()
            order.extend(r[2] for r in ranked)
            self._stale.discard(event)
        return order

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # on/off only mark the order stale, so this list is fixed for this emit
        for handler in self._listeners(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
