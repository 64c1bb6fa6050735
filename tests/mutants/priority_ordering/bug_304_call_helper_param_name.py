"""Exercise 1: priority_ordering. Sorted snapshot per emit; one listener is run by a small async helper.

BUG (planted): "`emit("e", handler="h")` calls `listener(handler="h")` (so a helper that passes the call on takes no parameter of its own by such a name)" This version runs each listener through ``_call_one(self, handler, *args, **kwargs)``, the natural name for the thing being called. The common payloads pass, but ``emit("e", handler="h")`` (an event whose payload names a handler, e.g. a routing event) raises ``TypeError: _call_one() got multiple values for argument 'handler'`` to the caller of ``emit``, and no listener hears the event.
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

    async def _call_one(self, handler: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run one listener to its end (awaiting whatever awaitable it returns)."""
        result = handler(*args, **kwargs)
        if _awaitable(result):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _sequence, listener in snapshot:
            await self._call_one(listener, *args, **kwargs)
