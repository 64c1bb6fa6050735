"""Bug: off returns True or False (whether something was removed) instead of None.

Breaks: "off(event, handler) -> None | removes every registration of that handler from event"
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class Registration:
    priority: int
    order: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """Registrations as dataclasses, sorted when an emit starts."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[Registration]] = {}
        self._next_order = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._next_order += 1
        reg = Registration(int(priority), self._next_order, handler)
        self._registrations.setdefault(event, []).append(reg)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> bool:
        regs = self._registrations.get(event, [])
        kept = [r for r in regs if r.handler != handler]
        removed = len(kept) != len(regs)
        if event in self._registrations:
            self._registrations[event] = kept
        return removed

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = sorted(
            self._registrations.get(event, []),
            key=lambda r: (-r.priority, r.order),
        )
        for reg in snapshot:
            value = reg.handler(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
