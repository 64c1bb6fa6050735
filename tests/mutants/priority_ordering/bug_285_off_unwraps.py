"""Exercise 1: priority_ordering. A list of (priority, sequence, handler) tuples per event; off looks through decorators so a decorated handler can be removed by its plain function.

BUG (planted): the page says "`off(event, handler)` removes all of its registrations on that
event, and no other handler (not even one made from it with `functools.wraps`, whose
`__wrapped__` is `handler`; nor, the other way round, the handler that a wrapper given to
`off` was made from". This version compares `inspect.unwrap(registered) ==
inspect.unwrap(handler)` (the student wanted `off(e, save)` to also remove a
`@logged`-decorated `save`), so a wrapper and the function it wraps count as one handler:
`off` of either removes both.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _same_handler(registered: Callable[..., Any], given: Callable[..., Any]) -> bool:
    """== on the functions under any decorators (functools.wraps sets __wrapped__)."""
    return bool(inspect.unwrap(registered) == inspect.unwrap(given))


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._table: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._registered = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered += 1
        self._table.setdefault(event, []).append((int(priority), self._registered, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._table.get(event)
        if rows is None:
            return
        rows[:] = [row for row in rows if not _same_handler(row[2], handler)]
        if not rows:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = sorted(self._table.get(event, []), key=lambda row: (-row[0], row[1]))
        for _, _, handler in rows:
            value = handler(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
