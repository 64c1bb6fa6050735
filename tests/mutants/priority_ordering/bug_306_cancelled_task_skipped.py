"""Exercise 1: priority_ordering. Sorted snapshot per emit; a listener's Task cancelled by someone else counts as skipped.

BUG (planted): "So does one from awaiting what a listener returned (rule 3): a Task it returns that ends cancelled, by its own code or by another's `cancel()`, raises `CancelledError` when awaited, and that comes out too." This version catches ``asyncio.CancelledError`` around the await and re-raises it only when the emit's own task is being cancelled (``current_task().cancelling()``); otherwise it treats the listener as "skipped" and goes on, so that another part of the program cancelling a listener's job does not "crash" the emit. The caller of ``emit`` sees it return normally, and the listeners after the cancelled one run, instead of the ``CancelledError`` coming out.
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
            if not _awaitable(result):
                continue
            try:
                await result
            except asyncio.CancelledError:
                me = asyncio.current_task()
                if me is not None and me.cancelling():
                    raise  # the emit itself is being cancelled: let it out
                # the listener's job was cancelled by someone else: skip it, go on
