"""Exercise 1: priority_ordering. on/off made while an emit runs are queued until that emit ends.

BUG (planted): "A listener that calls `on` or `off` while the emit runs changes the *next*
emit, not this one". To protect the running emit, on/off called while any emit is in
progress are queued and applied only when the last running emit finishes; so an emit that
starts meanwhile (gather'ed, or nested in a listener) is the "next emit" but does not see
the change: a handler registered before it started does not run in it (and one removed
before it started still runs).
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = itertools.count()
        # changes made while emitting wait here until no emit is running
        self._running = 0
        self._pending: list[Callable[[], None]] = []

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        if self._running:
            self._pending.append(lambda: self.on(event, handler, priority))
            return handler
        entries = self._listeners.setdefault(event, [])
        key = (-int(priority), next(self._seq))
        index = bisect.bisect_right([e[:2] for e in entries], key)
        entries.insert(index, (key[0], key[1], handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if self._running:
            self._pending.append(lambda: self.off(event, handler))
            return
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [e for e in entries if not (e[2] == handler)]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [e[2] for e in self._listeners.get(event, ())]
        self._running += 1
        try:
            for handler in snapshot:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._running -= 1
            if not self._running:
                pending, self._pending = self._pending, []
                for change in pending:
                    change()
        return None
