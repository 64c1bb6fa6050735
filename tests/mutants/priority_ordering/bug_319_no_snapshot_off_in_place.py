"""Exercise 1: priority_ordering. emit iterates the live list; off() edits it in place.

BUG (planted): "a listener removed meanwhile still runs in this emit". on() builds a
new sorted list (so an emit in progress keeps the old one, which is why the checks'
adder-then-remover program passes), but emit iterates the stored list without copying
it and off() shrinks that very list in place: when a listener calls off() before any
on() in the same emit, the removed listener (or the one after it) is skipped.
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
        # a new list each time: an emit that is running keeps the list it started with
        entries = [*self._listeners.get(event, ()), (int(priority), next(self._counter), handler)]
        self._listeners[event] = sorted(entries, key=lambda entry: (-entry[0], entry[1]))
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
        snapshot = self._listeners.get(event, ())  # on() never mutates a stored list
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
