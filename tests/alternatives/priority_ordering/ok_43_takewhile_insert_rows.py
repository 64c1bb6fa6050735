"""Style: each event keeps an immutable tuple of (priority, handler) rows in call order; `on` finds its slot with `itertools.takewhile` (it goes after every row of the same or a bigger priority), and an emit walks the tuple it read at its start.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in the order they were registered": the slot is after every row whose priority is >= the new one, so it runs after the earlier ones of its priority and before the smaller ones; "Any `int` is a priority too" ... "`2`, `EventPriority.MEDIUM`, `EventPriority.NORMAL` and the default are one priority": the row keeps `int(priority)`; "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once": one `await` of the result; "each listener gets exactly the positional and keyword arguments given to `emit`": `handler(*args, **kwargs)`; "`off(event, handler)` removes all of its registrations on that event" and "`off` compares handlers with `==`, not `is`": a new tuple without every row equal to it, and an unknown event or handler leaves everything as it was; "an emit works on a **snapshot** of the listeners taken when it starts": tuples are never changed, `on`/`off` store new ones, and the emit reads its tuple before it awaits anything; "its exception comes out of `emit` at once" and "A cancellation comes out the same way": nothing catches anything, and no state is held during an emit, so "The emitter stays usable"; "`await emit(...)` returns `None`"; "keep the state in the object, not in the module": `self._rows`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from itertools import takewhile
from typing import Any

from day25 import EventPriority

Row = tuple[int, Callable[..., Any]]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._rows: dict[str, tuple[Row, ...]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        rows = self._rows.get(event, ())
        slot = sum(1 for _ in takewhile(lambda row: row[0] >= level, rows))
        self._rows[event] = rows[:slot] + ((level, handler),) + rows[slot:]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._rows.get(event)
        if rows is None:
            return
        kept = tuple(row for row in rows if not row[1] == handler)
        if kept:
            self._rows[event] = kept
        else:
            del self._rows[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = self._rows.get(event, ())
        index = 0
        while index < len(rows):
            result = rows[index][1](*args, **kwargs)
            index += 1
            if inspect.isawaitable(result):
                await result
        return None
