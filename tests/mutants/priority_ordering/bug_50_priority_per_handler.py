"""Bug: the priority is stored per handler (one dict for all registrations), so registering a handler again, on any event, changes the priority of all its registrations.

Breaks: "Registering twice: registering the same handler twice makes it run twice" (each registration at its own priority) and "Events are independent".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """event -> handlers in registration order; handler -> priority."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._priority_of: dict[Callable[..., Any], int] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._handlers.setdefault(event, []).append(handler)
        self._priority_of[handler] = int(priority)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        handlers = self._handlers.get(event)
        if handlers is not None:
            self._handlers[event] = [h for h in handlers if h != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # sorted() is stable: same priority keeps registration order
        order = sorted(self._handlers.get(event, []), key=lambda h: -self._priority_of[h])
        for handler in order:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
