"""BUG (rule 5): off removes "no other handler (... nor one that only has the same name, as two
closures made by one factory have)". off compares handlers by `__qualname__` (falling back to
==) "so that a re-created callback can be removed", which also removes every other closure
made by the same factory.
"""

from __future__ import annotations

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
        name = getattr(handler, "__qualname__", None)
        entries[:] = [entry for entry in entries
                      if entry[2] != handler
                      and (name is None or getattr(entry[2], "__qualname__", None) != name)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _priority, _n, handler in list(self._listeners.get(event, [])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
