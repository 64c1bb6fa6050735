"""Bug: emit has `return None` inside its `finally`, which silently swallows a listener's exception.

Breaks rule 8: "A listener that raises: its exception comes out of emit at once, and the
listeners after it do not run in that emit (like a plain for loop). It is the listener's
own exception, not another one wrapping it: a listener's ValueError comes out of emit as
that ValueError, so the caller's except ValueError works." The loop does stop at the
raising listener, but the return in finally discards the exception, so await emit(...)
returns None as if everything ran (also for an inner emit: the calling listener never
sees the error).
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

logger = logging.getLogger(__name__)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit``; listeners kept as (priority, number, handler)."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._number = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._listeners.setdefault(event, []).append((int(priority), next(self._number), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._listeners:
            return
        kept = [entry for entry in self._listeners[event] if not entry[2] == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        called = 0
        try:
            for _, _, handler in snapshot:
                called += 1
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            logger.debug("emit %r: %d of %d listeners called", event, called, len(snapshot))
            return None
