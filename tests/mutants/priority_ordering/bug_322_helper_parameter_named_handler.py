"""Exercise 1: priority_ordering. emit passes the call on through a helper with a `handler` parameter.

BUG (planted): "`emit("e", handler="h")` calls `listener(handler="h")` (so a helper that
passes the call on takes no parameter of its own by such a name)". emit calls
`self._call(handler, *args, **kwargs)`, whose own first parameter is named `handler`,
so an emit with a keyword argument named `handler` raises TypeError ("got multiple
values for argument 'handler'") before any listener runs.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        entries[:] = [entry for entry in entries if not entry[2] == handler]
        if not entries:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _seq, handler in snapshot:
            await self._call(handler, *args, **kwargs)
        return None

    @staticmethod
    async def _call(handler: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Run one listener to its end."""
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
