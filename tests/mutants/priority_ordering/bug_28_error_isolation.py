"""BUG (was amb_04_error_isolation.py, decided by the new text): a listener that
raises is logged and the remaining listeners still run; emit never raises (the
bundled bus's behaviour, not this exercise's).

Violates rule 8: "the exception comes out of `emit` at once, and the listeners
after it do not run in that emit (like a plain `for` loop)."
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

log = logging.getLogger(__name__)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            try:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("listener %r for %r raised", handler, event)
