"""Bug: ``on`` guards against NaN and infinite priorities with ``math.isfinite(priority)``, which converts the int to a float first and so raises ``OverflowError`` for any priority of 2**1024 or more (or -2**1024 or less).

Breaks: "Any `int` is a priority too (`EventPriority` is an `IntEnum`): `10` runs before `HIGHEST`, `-5` after `LOWEST`, and `2**53 + 1` before `2**53`, however large (an `int`, not a `float`)." ... ``on("e", h, 2**1024)`` (or ``10**400``) raises ``OverflowError: int too large to convert to float`` instead of registering ``h`` to run before every smaller priority.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


def _make_emitter_state() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """Closures over one emitter's listeners: (add, remove, plan)."""
    listeners: dict[str, tuple[tuple[int, int, Callable[..., Any]], ...]] = {}
    orders = count()

    def add(event: str, handler: Callable[..., Any], priority: int) -> None:
        if not math.isfinite(priority):  # no NaN or inf sneaking in as a priority
            raise ValueError(f"priority must be a finite number, not {priority!r}")
        listeners[event] = (*listeners.get(event, ()), (int(priority), next(orders), handler))

    def remove(event: str, handler: Callable[..., Any]) -> None:
        kept = tuple(e for e in listeners.get(event, ()) if not e[2] == handler)
        if kept:
            listeners[event] = kept
        else:
            listeners.pop(event, None)

    def plan(event: str) -> list[Callable[..., Any]]:
        ordered = sorted(listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        return [handler for _priority, _order, handler in ordered]

    return add, remove, plan


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._add, self._remove, self._plan = _make_emitter_state()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._add(event, handler, priority)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._remove(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._plan(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
