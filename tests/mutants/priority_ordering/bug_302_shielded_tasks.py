"""Exercise 1: priority_ordering. Sorted snapshot per emit; Tasks and Futures a listener returns are awaited through asyncio.shield.

BUG (planted): "What it was awaiting is cancelled with it, as `await` does: a Task a listener returned does not go on running once the emit was cancelled." This version awaits a returned ``asyncio.Future``/``Task`` as ``await asyncio.shield(result)`` (coroutines are awaited directly), reasoning that a Task handed back may be shared with other code and must not be cancelled by this emit. When the emit is cancelled (``asyncio.wait_for`` runs out) the ``CancelledError`` does come out, but the listener's Task keeps running and does its work afterwards, after the caller was told the emit is over.
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
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _sequence, listener in snapshot:
            result = listener(*args, **kwargs)
            if isinstance(result, asyncio.Future):
                # a Task may belong to someone else too: wait for it, don't own it
                await asyncio.shield(result)
            elif _awaitable(result):
                await result
