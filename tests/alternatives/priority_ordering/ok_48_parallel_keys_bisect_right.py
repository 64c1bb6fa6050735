"""Style: each event holds an immutable table of two parallel tuples (negated priorities, handlers) kept sorted; `on` inserts with `bisect_right`, which puts a newcomer after every listener of its own priority, and `on`/`off` swap in a new table instead of editing the old one.

Follows: "a bigger priority runs earlier" (keys are `-int(priority)`, ascending, so any int and `2`/`MEDIUM`/`NORMAL` tie); "The default priority is `MEDIUM`"; "listeners of the same priority run in the order they were registered" (`bisect_right` inserts after equal keys, no counter needed); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once"; "each listener gets exactly the positional and keyword arguments given to `emit`" (`handler(*args, **kwargs)`); "`off(event, handler)` removes all of its registrations on that event" with "`==`, not `is`" (filtered by `==`; unknown events and handlers leave the table as it is; `on` again is inserted after its level, a new registration); "an emit works on a **snapshot** of the listeners taken when it starts" (emit keeps the table tuple it read at once; `on`/`off` only replace it); "its exception comes out of `emit` at once" (no try/except); "`await emit(...)` returns `None`"; "keep the state in the object, not in the module".
"""

from __future__ import annotations

import inspect
from bisect import bisect_right
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class _Table(NamedTuple):
    keys: tuple[int, ...] = ()                         # -priority, ascending
    handlers: tuple[Callable[..., Any], ...] = ()      # same positions as keys

    def with_added(self, priority: int, handler: Callable[..., Any]) -> _Table:
        key = -priority
        at = bisect_right(self.keys, key)               # after every equal key
        return _Table(self.keys[:at] + (key,) + self.keys[at:],
                      self.handlers[:at] + (handler,) + self.handlers[at:])

    def without(self, handler: Callable[..., Any]) -> _Table:
        kept = [i for i, h in enumerate(self.handlers) if not h == handler]
        if len(kept) == len(self.handlers):
            return self
        return _Table(tuple(self.keys[i] for i in kept), tuple(self.handlers[i] for i in kept))


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._tables: dict[str, _Table] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._tables[event] = self._tables.get(event, _Table()).with_added(int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        table = self._tables.get(event)
        if table is not None:
            self._tables[event] = table.without(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        handlers = self._tables.get(event, _Table()).handlers   # immutable snapshot
        for handler in handlers:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
