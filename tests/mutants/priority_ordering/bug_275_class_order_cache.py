"""Exercise 1: priority_ordering. Registrations per instance, with a memoised tuple of the call order per event.

BUG (planted): "So are emitters: a new `PriorityEmitter` holds nothing of another one's,
even one created where an old one was (keep the state in the object, not in the module)."
The memo of the call order is declared at class level next to the methods (like a
constant) and never created in ``__init__``, so all emitters share it, keyed by event name
only: once one emitter has emitted ``"e"``, another live emitter that emits ``"e"`` (and
has not called ``on``/``off`` since) runs the first emitter's listeners instead of its own.
A student writes it because the registrations themselves are per instance and every
check with one emitter at a time works.
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

    # event -> handlers in call order; rebuilt lazily after on/off changed the event
    _order_cache: dict[str, tuple[Handler, ...]] = {}

    def __init__(self) -> None:
        self._entries: dict[str, list[tuple[int, int, Handler]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._entries.setdefault(event, []).append((int(priority), next(self._counter), handler))
        self._order_cache.pop(event, None)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._entries.get(event)
        if entries is None:
            return
        self._entries[event] = [entry for entry in entries if not entry[2] == handler]
        self._order_cache.pop(event, None)

    def _order(self, event: str) -> tuple[Handler, ...]:
        order = self._order_cache.get(event)
        if order is None:
            entries = sorted(self._entries.get(event, ()), key=lambda e: (-e[0], e[1]))
            order = self._order_cache[event] = tuple(entry[2] for entry in entries)
        return order

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._order(event):  # a tuple: later on/off cannot touch it
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
