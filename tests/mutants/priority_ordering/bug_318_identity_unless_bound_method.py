"""Exercise 1: priority_ordering. off() matches bound methods by hand, others by identity.

BUG (planted): "The same holds for every handler, not only Python's bound methods:
`lst.append` of one list, or an object with its own `__eq__`". off() compares two
bound methods by `__self__ is` / `__func__ is` and every other handler with `is`, so
`off(e, lst.append)` (a new builtin-method object at every access) or an equal object
with its own `__eq__` removes nothing.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _same_handler(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    """obj.handle is a new object at every access: compare what it binds."""
    if inspect.ismethod(a) and inspect.ismethod(b):
        return a.__self__ is b.__self__ and a.__func__ is b.__func__
    return a is b


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        entries[:] = [entry for entry in entries if not _same_handler(entry[2], handler)]
        if not entries:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
