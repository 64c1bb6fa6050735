"""Style: one flat list of (priority, handler) pairs per event in registration order, ordered at emit time by Python's stable sort with reverse=True instead of a registration counter.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in the order they were registered" (sorted(key=priority, reverse=True) is stable, so equal priorities keep their list order); "2, EventPriority.MEDIUM, EventPriority.NORMAL and the default are one priority" and "any int" (the key is int(priority)); "registers handler and returns it unchanged" (on returns handler); "removes every registration of that handler ... compares handlers with ==" and "on again is a new registration ... at the back of its priority" (off rebuilds the list without the pairs whose handler == it, a later on appends); "Removing a handler or event that is not there does nothing"; "an emit works on a snapshot ... taken at once" (the sorted copy is made before the first await); "If what a listener returns is awaitable (inspect.isawaitable), it is awaited to the end before the next listener starts" and "It is awaited once"; "each listener gets exactly the positional and keyword arguments given to emit"; "its exception comes out of emit at once" (nothing catches it); "await emit(...) returns None"; "keep the state in the object" (the dict is made in __init__).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from day25 import EventPriority

_by_priority = itemgetter(0)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(priority, handler), ...] in the order the on() calls happened
        self._pairs: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._pairs.setdefault(event, []).append((int(priority), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        pairs = self._pairs.get(event)
        if pairs is None:
            return
        kept = [pair for pair in pairs if not (pair[1] == handler)]
        if kept:
            self._pairs[event] = kept
        else:
            del self._pairs[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # sorted() builds a new list right now: later on/off calls cannot touch it.
        # The sort is stable, and reverse=True keeps equal keys in their old order.
        order = sorted(self._pairs.get(event, ()), key=_by_priority, reverse=True)
        for _priority, handler in order:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
