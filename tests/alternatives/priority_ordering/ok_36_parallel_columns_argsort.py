"""Style: each event is a struct of two parallel columns (priorities, handlers) in registration order; emit argsorts the row numbers with a stable descending sort and reads the handlers through that permutation.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in the order they were registered" (`sorted(range(n), key=priorities.__getitem__, reverse=True)` is stable, so equal ints, whatever their spelling, keep row order; Python ints are exact at any size); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once"; "each listener gets exactly the positional and keyword arguments given to `emit`"; "`off(event, handler)` removes all of its registrations on that event, and no other handler" with "`==`, not `is`" (the columns are rebuilt from the rows whose handler is not `== handler`; a later `on` appends a new row at the end); "an emit works on a **snapshot** of the listeners taken when it starts" (the permuted handler list is built before the first await, and `off` builds new columns); "its exception comes out of `emit` at once"; "`await emit(...)` returns `None`"; "Events are independent" (columns per exact event string, per instance).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._priorities: dict[str, list[int]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._priorities.setdefault(event, []).append(int(priority))
        self._handlers.setdefault(event, []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        handlers = self._handlers.get(event)
        if handlers is None:
            return
        priorities = self._priorities[event]
        rows = [row for row, h in enumerate(handlers) if not h == handler]
        if rows:
            self._priorities[event] = [priorities[row] for row in rows]
            self._handlers[event] = [handlers[row] for row in rows]
        else:
            del self._priorities[event], self._handlers[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        handlers = self._handlers.get(event, [])
        priorities = self._priorities.get(event, [])
        order = sorted(range(len(handlers)), key=priorities.__getitem__, reverse=True)
        snapshot = [handlers[row] for row in order]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
