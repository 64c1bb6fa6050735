"""Bug: priority and registration number are packed into one number (priority times ten minus the registration number), so after ten registrations a lower priority can overtake a higher one.

Breaks: "a bigger priority runs earlier" and "Any int is a priority too" (rule 1); ties stay fine, but a MEDIUM registered as the twelfth listener runs after a LOW registered first.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_SLOTS_PER_LEVEL = 10  # room for the registration order inside one priority


class PriorityEmitter:
    """One numeric rank per registration; bigger rank runs first."""

    def __init__(self) -> None:
        self._table: dict[str, list[tuple[int, Callable[..., Any]]]] = {}
        self._registrations = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        rank = int(priority) * _SLOTS_PER_LEVEL - self._registrations
        self._registrations += 1
        self._table.setdefault(event, []).append((rank, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event not in self._table:
            return
        self._table[event] = [(r, h) for r, h in self._table[event] if h != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ranked = sorted(self._table.get(event, []), key=lambda item: item[0], reverse=True)
        for _, handler in ranked:
            value = handler(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
