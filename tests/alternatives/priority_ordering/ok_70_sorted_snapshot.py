"""Exercise 1: priority_ordering.

Design: each event keeps a plain list of registrations (priority, a running
sequence number, the handler) in the order they were made. ``emit`` sorts a copy of
that list by (bigger priority first, then sequence number) before it awaits
anything, so the sorted copy is the emit's snapshot. ``off`` rebuilds the list
without the registrations whose handler is ``==`` to the one given.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority

# the code flag Python sets on a generator made by @types.coroutine (inspect's
# CO_ITERABLE_COROUTINE): such a generator may be awaited, a plain one may not
_CO_ITERABLE_COROUTINE = 0x100


def _is_awaitable(value: Any) -> bool:
    """What ``inspect.isawaitable`` says: has ``__await__``, or is a generator-based coroutine."""
    if isinstance(value, Awaitable):
        return True
    return isinstance(value, Generator) and bool(
        getattr(value, "gi_code", None) and value.gi_code.co_flags & _CO_ITERABLE_COROUTINE
    )


@dataclass
class _Registration:
    priority: int
    seq: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[_Registration]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registration = _Registration(int(priority), next(self._seq), handler)
        self._listeners.setdefault(event, []).append(registration)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._listeners.get(event)
        if registrations is None:
            return
        kept = [r for r in registrations if not r.handler == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda r: (-r.priority, r.seq))
        for registration in snapshot:
            result = registration.handler(*args, **kwargs)
            if _is_awaitable(result):
                await result
        return None
