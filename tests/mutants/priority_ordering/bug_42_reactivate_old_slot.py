"""Bug: off only deactivates a slot and a later on of the same handler and priority reactivates it in its old place.

Breaks: "After off, nothing of that handler is left on that event: on again is a new registration, so it runs once, after the listeners of its priority registered before it (its old place is gone)."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass
class _Slot:
    handler: Callable[..., Any]
    priority: int
    active: bool = True


class PriorityEmitter:
    """Slots in registration order; off switches a slot off, on reuses a free slot."""

    def __init__(self) -> None:
        self._slots: dict[str, list[_Slot]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        slots = self._slots.setdefault(event, [])
        level = int(priority)
        # reuse a switched-off slot instead of letting the list grow forever
        for slot in slots:
            if not slot.active and slot.handler == handler and slot.priority == level:
                slot.active = True
                return handler
        slots.append(_Slot(handler, level))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        for slot in self._slots.get(event, []):
            if slot.handler == handler:
                slot.active = False

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # snapshot the handlers that are active now (not the slot objects)
        active = [slot for slot in self._slots.get(event, []) if slot.active]
        ordered = sorted(active, key=lambda slot: slot.priority, reverse=True)
        handlers = [slot.handler for slot in ordered]
        for handler in handlers:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
