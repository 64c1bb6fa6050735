"""BUG: uses ``len(registry)`` as the registration id of a new listener, in a dict
id -> (priority, handler). After an off, a new registration can get the id of a
listener that is still registered and silently overwrites it (on a, b, c; off a;
on d: d takes id 2 and c is gone).

Violates rule 5: "`off(event, handler)` removes all of its registrations on that
event, and no other handler." (a later on() loses another handler too; in a
random on/off/emit program the emitted set differs from the model).

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
        # event -> {registration id: (priority, handler)}
        self._listeners: dict[str, dict[int, tuple[int, Callable[..., Any]]]] = {}

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        registry = self._listeners.setdefault(event, {})
        registry[len(registry)] = (int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        registry = self._listeners.get(event, {})
        for reg_id in [i for i, (_, h) in registry.items() if h == handler]:
            del registry[reg_id]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        registry = self._listeners.get(event, {})
        ordered = sorted(registry.items(), key=lambda item: (-item[1][0], item[0]))
        for _, (_, handler) in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
