"""Exercise 1: priority_ordering.

Each registration is a small frozen dataclass (priority as a plain int, a ticket
from a counter that only grows, the handler). Per event the registrations sit in
a list kept in run order with ``bisect.insort`` on the key (-priority, ticket), so
a new one lands after every equal-priority one before it. ``off`` rebuilds the list
without the registrations whose handler is ``==`` to the one given; ``emit`` copies
the list before it first awaits anything and awaits each awaitable result once.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Registration:
    priority: int
    ticket: int
    handler: Callable[..., Any] = field(compare=False)

    @property
    def run_key(self) -> tuple[int, int]:
        return (-self.priority, self.ticket)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit``: bigger priority first, ties by registration."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[_Registration]] = {}
        self._tickets = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registration = _Registration(int(priority), next(self._tickets), handler)
        queue = self._by_event.setdefault(event, [])
        bisect.insort(queue, registration, key=lambda r: r.run_key)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        queue = self._by_event.get(event)
        if queue is None:
            return
        kept = [r for r in queue if not (r.handler == handler)]
        if kept:
            self._by_event[event] = kept
        else:
            del self._by_event[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for registration in tuple(self._by_event.get(event, ())):
            outcome = registration.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
