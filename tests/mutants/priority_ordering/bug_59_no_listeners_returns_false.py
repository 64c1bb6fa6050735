"""Bug: emit of an event without listeners returns False (like Node's emit) instead of None.

Breaks: "Return value: `await emit(...)` returns `None`." (with rule 10: "emitting an event
nobody listens to does nothing").
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """A dict of event -> {priority: [handlers]}; priorities sorted at emit time."""

    def __init__(self) -> None:
        self._table: dict[str, dict[int, list[Callable[..., Any]]]] = defaultdict(dict)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._table[event].setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        levels = self._table.get(event)
        if not levels:
            return
        for prio in list(levels):
            levels[prio] = [h for h in levels[prio] if h != handler]
            if not levels[prio]:
                del levels[prio]
        if not levels:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        levels = self._table.get(event)
        if not levels:
            return False  # nobody listens: report that nothing was handled
        snapshot = [h for prio in sorted(levels, reverse=True) for h in levels[prio]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
