"""Exercise 1: priority_ordering. off() uses == only for bound methods and `is` otherwise.

BUG (planted): "The same holds for every handler, not only Python's bound methods:
`lst.append` of one list, or an object with its own `__eq__`". Not trusting arbitrary
__eq__ methods, off compares with == only when the handler is a Python bound method
(inspect.ismethod) and with `is` for everything else, so off("e", lst.append) (a builtin
method, a new object at every access) or off with an equal callable object removes nothing.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _same_handler(registered: Callable[..., Any], handler: Callable[..., Any]) -> bool:
    # obj.handle is a new object at every access: bound methods need ==.
    # For anything else identity is the safe test (a user __eq__ may do anything).
    if inspect.ismethod(handler):
        return registered == handler
    return registered is handler


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, registration number, handler), kept sorted
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
        if entries is None:
            return
        kept = [entry for entry in entries if not _same_handler(entry[2], handler)]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _number, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
