"""BUG: keeps one bucket per priority level in a dict and walks the dict in its
insertion order, i.e. the order in which the LEVELS were first used, never
sorting the levels. Register LOW first and LOW runs first.

Violates rule 1: "**Priority**: a bigger priority runs earlier: `HIGHEST`, `HIGH`,
`MEDIUM`, `LOW`, `LOWEST`." (the example registers audit (LOW) first and expects
"validate, store, audit").

(Re-checked under the re-specified text: still a bug; off changed from ``is``
to ``==`` so that this stays the only mistake.)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority: [handlers in registration order]}
        self._buckets: dict[str, dict[EventPriority, list[Callable[..., Any]]]] = {}

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._buckets.setdefault(event, {}).setdefault(priority, []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        for level, handlers in self._buckets.get(event, {}).items():
            handlers[:] = [h for h in handlers if h != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        levels = self._buckets.get(event, {})
        for level, handlers in list(levels.items()):
            for handler in list(handlers):
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
