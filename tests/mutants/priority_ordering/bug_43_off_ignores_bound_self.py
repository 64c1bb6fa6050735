"""Bug: off compares the underlying function of bound methods, so it also removes the same method bound to another object.

Breaks: "two of them are equal when they bind the same function to the same object" and "off(event, handler) removes all of its registrations on that event, and no other handler."
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _underlying(handler: Callable[..., Any]) -> Any:
    # obj.handle is a new object at every access: compare the function behind it
    return getattr(handler, "__func__", handler)


class PriorityEmitter:
    """A list per event kept sorted at insertion time with bisect."""

    def __init__(self) -> None:
        self._entries: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._registered = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered += 1
        entry = (-int(priority), self._registered, handler)
        bisect.insort(self._entries.setdefault(event, []), entry, key=lambda e: (e[0], e[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        if event not in self._entries:
            return
        target = _underlying(handler)
        self._entries[event] = [
            entry for entry in self._entries[event] if _underlying(entry[2]) != target
        ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _key, _number, handler in tuple(self._entries.get(event, ())):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
