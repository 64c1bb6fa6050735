"""BUG (rule 8): "a Task it returns that ends cancelled, by its own code or by another's
`cancel()`, raises `CancelledError` when awaited, and that comes out too." The emit treats a
CancelledError that did not come from its own task being cancelled as "that listener's task
was cancelled, not our business" and goes on with the next listener. A cancelled emit
(wait_for) still propagates.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(priority, registration number, handler)], kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._registered = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered += 1
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), self._registered, handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        # ==, not `is`: `obj.method` is a new bound-method object at every access,
        # and two of them are equal when they bind the same function to the same object
        entries = self._listeners.get(event, [])
        entries[:] = [entry for entry in entries if entry[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _priority, _n, handler in list(self._listeners.get(event, [])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                try:
                    await result
                except asyncio.CancelledError:
                    task = asyncio.current_task()
                    if task is not None and task.cancelling():
                        raise  # we are being cancelled
                    continue  # only the listener's own task was cancelled
