"""Exercise 1: priority_ordering. Priority emitter whose off sees through decorators.

BUG (planted): rule 5 says "`off(event, handler)` removes all of its registrations
on that event, and no other handler (not even one made from it with
`functools.wraps`, whose `__wrapped__` is `handler`; nor, the other way round, the
handler that a wrapper given to `off` was made from ...)." This version compares
``inspect.unwrap(registered) == inspect.unwrap(handler)`` so that "off works even when
the handler was registered through a decorator", removing wrappers and originals alike.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


def _same_handler(registered: Handler, handler: Handler) -> bool:
    """Equality, not identity (bound methods!), looking through functools.wraps layers."""
    if registered == handler:
        return True
    try:
        return inspect.unwrap(registered) == inspect.unwrap(handler)
    except ValueError:  # a cycle of __wrapped__
        return False


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, list[tuple[int, int, Handler]]] = {}
        self._tick = itertools.count()

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._events.setdefault(event, []).append((int(priority), next(self._tick), handler))
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._events.get(event)
        if registrations is None:
            return
        self._events[event] = [r for r in registrations if not _same_handler(r[2], handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._events.get(event, ()), key=lambda r: (-r[0], r[1]))
        for _, _, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
