"""Exercise 1: priority_ordering. off() also removes wrappers made with functools.wraps.

BUG (planted): "and no other handler (not even one made from it with `functools.wraps`,
whose `__wrapped__` is `handler`". Like the bundled bus, off() also drops every
registration whose `__wrapped__` equals the handler, so `off(e, f)` silently removes
a separately registered `@functools.wraps(f)` wrapper as well.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


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
        entries[:] = [entry for entry in entries if not self._matches(entry[2], handler)]
        if not entries:
            del self._listeners[event]

    @staticmethod
    def _matches(registered: Callable[..., Any], handler: Callable[..., Any]) -> bool:
        # a decorated listener (functools.wraps) counts as its original, as on the bus
        return registered == handler or getattr(registered, "__wrapped__", None) == handler

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
