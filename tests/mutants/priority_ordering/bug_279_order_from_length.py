"""Exercise 1: priority_ordering. One list of (priority, order, handler) per event, sorted by a key; the order number is the list's length at registration.

BUG (planted): "After `off`, nothing of that handler is left on that event: `on` again is
a new registration, so it runs once, after the listeners of its priority registered
before it (its old place is gone)." (and rule 2: "listeners of the same priority run in
the order they were registered"). This version numbers a registration with
``len(self._listeners[event])``, a number that only lives as long as the list's
current contents: once ``off`` has removed earlier registrations, a new one gets a
number lower than listeners registered before it and sorts in front of them. A student
writes it because the length "is" the registration count as long as nothing is
removed, and re-registering the handler just removed still lands last.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Handler]]] = {}

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listeners = self._listeners.setdefault(event, [])
        order = len(listeners)  # how many were registered before this one
        listeners.append((int(priority), order, handler))
        listeners.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        listeners = self._listeners.get(event)
        if listeners is not None:
            self._listeners[event] = [e for e in listeners if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _priority, _order, handler in tuple(self._listeners.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
