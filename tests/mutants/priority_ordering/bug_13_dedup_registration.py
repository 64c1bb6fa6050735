"""BUG: stores listeners in a dict keyed by handler (handler -> (priority, order)),
so registering the same handler a second time only updates its priority: it
runs once, not twice.

Violates rule 5: "**Registering twice**: registering the same handler twice makes
it run twice."

(Re-checked under the re-specified text: still a bug. Being a dict, it also
cannot hold an unhashable callable, a side effect of the same design.)
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
        self._listeners: dict[str, dict[Callable[..., Any], tuple[int, int]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, {})[handler] = (int(priority), next(self._order))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        self._listeners.get(event, {}).pop(handler, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        registry = self._listeners.get(event, {})
        ordered = sorted(registry.items(), key=lambda item: (-item[1][0], item[1][1]))
        for handler, _ in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
