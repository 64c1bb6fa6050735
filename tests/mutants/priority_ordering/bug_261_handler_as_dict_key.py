"""Bug: listeners are stored in a dict keyed by the handler (so `off` is a dict pop), which needs the handler to be hashable.

Breaks: "or an object with its own `__eq__` (even one that cannot be hashed, as a class that defines `__eq__` alone cannot)" ... class H defining `__eq__` and `__call__` only: on("e", H()) raises TypeError: unhashable type: 'H' instead of registering it."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {handler: [(priority, seq), ...]}: off is a single dict pop
        self._listeners: dict[str, dict[Callable[..., Any], list[tuple[int, int]]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        by_handler = self._listeners.setdefault(event, {})
        by_handler.setdefault(handler, []).append((int(priority), self._seq))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        by_handler = self._listeners.get(event)
        if by_handler is not None:
            by_handler.pop(handler, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        by_handler = self._listeners.get(event, {})
        snapshot = sorted(
            (-priority, seq, handler)
            for handler, registrations in by_handler.items()
            for priority, seq in registrations
        )
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
