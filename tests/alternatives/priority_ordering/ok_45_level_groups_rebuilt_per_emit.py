"""Style: each event keeps an insertion-ordered dict ``ticket -> (priority, handler)``; every emit copies its values and groups them into levels with a defaultdict, walking the levels from the biggest number down.

Follows: "a bigger priority runs earlier" (levels visited in ``sorted(..., reverse=True)`` order of their int value, so ``2**53 + 1`` comes before ``2**53`` and ``10`` before ``HIGHEST``); "listeners of the same priority run in the order they were registered" (dicts keep insertion order and every ``on`` gets a fresh ticket, so ``on`` after ``off`` lands at the back); "off compares handlers with ==" (``off`` rebuilds the dict without every entry whose handler ``== handler``); "an emit works on a snapshot of the listeners taken when it starts" (the values are copied before the first ``await``); "If what a listener returns is awaitable (inspect.isawaitable), it is awaited to the end before the next listener starts" and "It is awaited once"; "its exception comes out of emit at once" (nothing is caught); "await emit(...) returns None".
"""

from __future__ import annotations

import inspect
import itertools
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._tickets = itertools.count()
        self._events: dict[str, dict[int, tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._events.setdefault(event, {})[next(self._tickets)] = (int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        table = self._events.get(event)
        if not table:
            return
        self._events[event] = {t: entry for t, entry in table.items() if not entry[1] == handler}

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels: defaultdict[int, list[Callable[..., Any]]] = defaultdict(list)
        for priority, handler in list(self._events.get(event, {}).values()):
            levels[priority].append(handler)
        for priority in sorted(levels, reverse=True):
            for handler in levels[priority]:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        return None
