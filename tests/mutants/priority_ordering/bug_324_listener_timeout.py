"""Exercise 1: priority_ordering. Each awaited listener gets a five-minute timeout, then is skipped.

BUG (planted): "are all awaited, however long they take". emit wraps what a listener
returns in asyncio.wait_for(..., LISTENER_TIMEOUT) so one hung listener cannot block the
others; a listener that takes longer than 300 s is cancelled, a warning is logged and the
next listener runs. Shows with any listener that takes more than 300 s.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

logger = logging.getLogger(__name__)

#: no single listener may hold up an emit for longer than this (seconds)
LISTENER_TIMEOUT = 300.0


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, registration number, handler), kept sorted
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
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _number, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                try:
                    await asyncio.wait_for(result, LISTENER_TIMEOUT)
                except asyncio.TimeoutError:
                    # a hung listener must not stall every listener after it
                    logger.warning("listener %r of %r timed out after %ss; skipped",
                                   handler, event, LISTENER_TIMEOUT)
