"""Exercise 1: priority_ordering. Sorted snapshot per emit, taken after emit first yields to the loop.

BUG (planted): "So does other code that calls them once the emit started (while it waits for a listener): the snapshot is taken at once, before the emit first waits for anything." This version starts ``emit`` with ``await asyncio.sleep(0)`` ("let registrations already scheduled land first, so an emit fired right after setup sees them") and only then copies the listeners. Code in another task that calls ``on`` or ``off`` while the emit has started and is at that first wait changes the running emit: a listener registered after the emit began is called by it, and one removed after it began is not.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventPriority


_CO_ITERABLE_COROUTINE = 0x100  # what @types.coroutine sets on a generator's code


def _awaitable(value: Any) -> bool:
    """Awaitable as the page means it: has ``__await__``, or is a generator-based coroutine."""
    if isinstance(value, Awaitable):
        return True
    code = getattr(value, "gi_code", None)
    return code is not None and bool(code.co_flags & _CO_ITERABLE_COROUTINE)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._sequence = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._listeners.setdefault(event, []).append((int(priority), next(self._sequence), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries:
            self._listeners[event] = [e for e in entries if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        await asyncio.sleep(0)  # let pending on()/off() calls from other tasks land first
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _sequence, listener in snapshot:
            result = listener(*args, **kwargs)
            if _awaitable(result):
                await result
