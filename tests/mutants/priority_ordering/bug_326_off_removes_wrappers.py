"""Exercise 1: priority_ordering. off(handler) also removes wrappers made with functools.wraps.

BUG (planted): "and no other handler (not even one made from it with `functools.wraps`,
whose `__wrapped__` is `handler`". off follows each registered handler's __wrapped__
chain and removes it when it leads to the handler given, so off("e", f) also removes a
decorated version of f registered on its own. Shows whenever f and a wraps(f) wrapper
are both registered and f is removed.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _unwraps_to(registered: Callable[..., Any], handler: Callable[..., Any]) -> bool:
    """True if ``registered`` is ``handler``, or a decorated version of it."""
    seen: set[int] = set()
    current: Any = registered
    while current is not None and id(current) not in seen:
        if current == handler:
            return True
        seen.add(id(current))
        # a decorator written with functools.wraps keeps the original here
        current = getattr(current, "__wrapped__", None)
    return False


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
        kept = [entry for entry in entries if not _unwraps_to(entry[2], handler)]
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
