"""Exercise 1: priority_ordering. Sorted registrations per event; bound methods are held through ``weakref.WeakMethod`` so the emitter never keeps an object alive.

BUG (planted): "`on(event, handler, priority=EventPriority.MEDIUM) -> handler` | registers
`handler` for `event`" and rule 7: the snapshot holds "the registered handlers themselves".
This version stores a bound method only as a ``weakref.WeakMethod`` (the "avoid leaking
subscribers" advice of many event libraries), so ``emitter.on("e", Greeter().greet)`` is
let go at the next garbage collection: the object dies while still registered and the
listener silently never runs, although nobody called ``off``. A student writes it to
avoid keeping dead objects alive; every check where the caller keeps its object works.
"""

from __future__ import annotations

import inspect
import itertools
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class _Registration:
    __slots__ = ("priority", "order", "_strong", "_weak")

    def __init__(self, handler: Handler, priority: int, order: int) -> None:
        self.priority = priority
        self.order = order
        if inspect.ismethod(handler):
            # do not keep the object alive just because it listens
            self._strong: Handler | None = None
            self._weak: weakref.WeakMethod[Any] | None = weakref.WeakMethod(handler)
        else:
            self._strong = handler
            self._weak = None

    def handler(self) -> Handler | None:
        if self._weak is not None:
            return self._weak()
        return self._strong


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[_Registration]] = {}
        self._orders = itertools.count()

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registrations = self._registrations.setdefault(event, [])
        registrations.append(_Registration(handler, int(priority), next(self._orders)))
        registrations.sort(key=lambda r: (-r.priority, r.order))
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._registrations.get(event)
        if not registrations:
            return
        kept = []
        for registration in registrations:
            current = registration.handler()
            if current is None or current == handler:
                continue  # removed, or its object is gone
            kept.append(registration)
        self._registrations[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [r.handler() for r in self._registrations.get(event, ())]
        for handler in snapshot:
            if handler is None:
                continue  # its object was garbage-collected
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
