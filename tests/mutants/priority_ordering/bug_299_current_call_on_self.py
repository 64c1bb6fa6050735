"""Exercise 1: priority_ordering. Sorted snapshot per emit; the arguments of the emit in progress are kept on the emitter for a helper.

BUG (planted): "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 2))`): each calls every listener of its own snapshot, with its own arguments." This version stores the emit's arguments in ``self._current`` and has ``_dispatch`` read them from there, saving and restoring them around each emit so that an emit inside a listener (rule 11) still works; a student writes it to avoid threading ``*args, **kwargs`` through a helper. When two emits interleave (both await an async listener), the one that started later overwrites ``self._current``: the listeners after the first ``await`` of the earlier emit are called with the later emit's payload, and the earlier payload is never seen again.
"""

from __future__ import annotations

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
        self._current: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})

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

    async def _dispatch(self, listener: Callable[..., Any]) -> None:
        args, kwargs = self._current
        result = listener(*args, **kwargs)
        if _awaitable(result):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        outer = self._current
        self._current = (args, kwargs)
        try:
            for _priority, _sequence, listener in snapshot:
                await self._dispatch(listener)
        finally:
            self._current = outer  # an emit inside a listener gives the outer one its call back
