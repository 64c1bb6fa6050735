"""Exercise 1: priority_ordering. Sorted snapshot, and one `_settle` helper for "await if awaitable".

BUG (planted): "If what a listener *returns* is awaitable, it is awaited to the end before the
next listener starts ... It is awaited once: what that gives back is a value, even when it is
awaitable too." The tidy-up folded the `if awaitable: await` of `emit` into a reusable helper
`_settle(value)` that, like a Promise chain, keeps awaiting `while` the value is awaitable. An
`async def` listener that returns a coroutine (or a Future) now has that value awaited too: the
returned coroutine runs inside the emit, and a returned Future that never ends hangs the emit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _awaitable(value: Any) -> bool:
    """``inspect.isawaitable``: a class with ``__await__``, or a @types.coroutine generator."""
    if hasattr(type(value), "__await__"):
        return True
    code = getattr(value, "gi_code", None)
    return code is not None and bool(code.co_flags & 0x100)


async def _settle(value: Any) -> Any:
    """Await ``value`` until what comes back is a plain value; return it."""
    while _awaitable(value):
        value = await value
    return value


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._table: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._clock = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._table.setdefault(event, []).append((int(priority), next(self._clock), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._table.get(event)
        if rows:
            self._table[event] = [row for row in rows if not row[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = sorted(self._table.get(event, ()), key=lambda row: (-row[0], row[1]))
        for _priority, _stamp, handler in rows:
            await _settle(handler(*args, **kwargs))
