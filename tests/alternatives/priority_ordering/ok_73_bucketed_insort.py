"""Exercise 1: priority_ordering.

Each event keeps a list already in run order: a new registration is inserted
with ``bisect.insort`` on the key ``(-priority, tick)``, so it lands after every
listener of its priority registered before it. ``emit`` copies the handlers out
of that list before its first ``await`` and drives them one at a time.
"""

from __future__ import annotations

import bisect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


_CO_ITERABLE_COROUTINE = 0x100  # what @types.coroutine sets on a generator's code


def _awaitable(value: Any) -> bool:
    """Awaitable as the page means it: has ``__await__``, or is a generator-based coroutine."""
    if isinstance(value, Awaitable):
        return True
    code = getattr(value, "gi_code", None)
    return code is not None and bool(code.co_flags & _CO_ITERABLE_COROUTINE)


@dataclass(order=True)
class _Registration:
    key: tuple[int, int]
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._ordered: dict[str, list[_Registration]] = {}
        self._tick = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._tick += 1
        rows = self._ordered.setdefault(event, [])
        bisect.insort(rows, _Registration((-int(priority), self._tick), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._ordered.get(event)
        if rows is None:
            return
        # rebuild rather than remove in place: a running emit holds its own copy anyway
        self._ordered[event] = [row for row in rows if not row.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        handlers = [row.handler for row in self._ordered.get(event, [])]
        for handler in handlers:
            outcome = handler(*args, **kwargs)
            if _awaitable(outcome):
                await outcome
