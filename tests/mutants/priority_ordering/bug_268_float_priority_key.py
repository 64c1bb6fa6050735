"""Exercise 1: priority_ordering. Priority emitter with numeric priorities.

BUG (planted): rule 1 says "`2**53 + 1` before `2**53`, however large (an `int`,
not a `float`)." This version normalises every priority with ``float()`` so that
"fractional priorities like 2.5 work too"; above 2**53 neighbouring ints collapse
to one float and tie, so they run in registration order instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from itertools import count
from typing import Any

from day25 import EventPriority


@dataclass
class _Listener:
    priority: float
    order: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[_Listener]] = {}
        self._order = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        # Normalise to a number we can sort: IntEnum members, ints (and even 2.5) all work.
        listener = _Listener(float(priority), next(self._order), handler)
        bucket = self._listeners.setdefault(event, [])
        bucket.append(listener)
        # Higher priority first; Python's sort is stable so ties keep registration order.
        bucket.sort(key=lambda item: -item.priority)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        bucket = self._listeners.get(event)
        if bucket is None:
            return
        bucket[:] = [item for item in bucket if not item.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for item in list(self._listeners.get(event, [])):
            result = item.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
