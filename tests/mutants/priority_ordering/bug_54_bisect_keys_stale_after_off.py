"""Bug: on keeps a parallel list of sort keys for bisect, but off forgets to remove the keys, so later registrations land at the wrong place.

Breaks: "a bigger priority runs earlier" and "After `off`, nothing of that handler is left on
that event: `on` again is a new registration, so it runs once, after the listeners of its
priority registered before it (its old place is gone)."
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Two parallel lists per event: negated priorities (for bisect) and handlers."""

    def __init__(self) -> None:
        self._keys: dict[str, list[int]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        keys = self._keys.setdefault(event, [])
        handlers = self._handlers.setdefault(event, [])
        key = -int(priority)
        # bisect_right: after every listener with the same priority (ties keep order)
        index = bisect.bisect_right(keys, key)
        keys.insert(index, key)
        handlers.insert(index, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        handlers = self._handlers.get(event)
        if handlers is None:
            return
        self._handlers[event] = [h for h in handlers if h != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in list(self._handlers.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
