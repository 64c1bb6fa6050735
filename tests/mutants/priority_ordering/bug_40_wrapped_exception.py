"""BUG: when a listener raises, emit stops (correctly) but raises its own
``RuntimeError("listener ... failed for event ...")`` chained ``from`` the
original, "for a better message". The caller's ``except ValueError`` (or whatever
the listener raised) no longer catches it.

Violates rule 8: "**A listener that raises**: the exception comes out of `emit`
at once" (the listener's exception, not another one).
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
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: int = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _, _, handler in ordered:
            try:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                name = getattr(handler, "__qualname__", repr(handler))
                raise RuntimeError(f"listener {name} failed for event {event!r}") from exc
