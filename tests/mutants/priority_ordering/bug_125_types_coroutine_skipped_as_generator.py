"""Bug: `emit` drops every generator before asking `inspect.isawaitable`, so a generator-based coroutine (`@types.coroutine`) that a listener returns is never awaited.

Breaks: "or a generator-based coroutine (`@types.coroutine`, which has no `__await__`), and an object whose `__call__` is `async def` are all awaited, however long they take" ... A listener `lambda x: legacy(x)` where `legacy` is a `@types.coroutine` generator that yields once and then records `x`: `emit("e", 1)` returns without ever running `legacy`'s body, and the next listener starts at once.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Registration:
    priority: int
    order: int
    handler: Callable[..., Any]

    def sort_key(self) -> tuple[int, int]:
        # bigger priority first, then registration order
        return (-self.priority, self.order)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: defaultdict[str, list[_Registration]] = defaultdict(list)
        self._counter = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._counter += 1
        self._by_event[event].append(_Registration(int(priority), self._counter, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._by_event.get(event)
        if registrations:
            # a new list: a running emit keeps its own snapshot anyway
            self._by_event[event] = [r for r in registrations if not r.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._by_event.get(event, ()), key=_Registration.sort_key)
        for registration in snapshot:
            result = registration.handler(*args, **kwargs)
            if inspect.isgenerator(result):
                # a plain generator is a value, not something to await (rule 3)
                continue
            if inspect.isawaitable(result):
                await result
        return None
