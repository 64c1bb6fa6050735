"""Exercise 1: priority_ordering. emit yields to the loop before taking its snapshot.

BUG (planted): "the snapshot is taken at once, before the emit first waits for anything".
emit starts with ``await asyncio.sleep(0)`` (to let pending registrations land first), so
an on/off made by other code after the emit started, while it sits in that first wait,
changes this emit: a handler added then runs, one removed then does not.
"""

from __future__ import annotations

import asyncio
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

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        key = (-int(priority), next(self._seq))
        index = bisect.bisect_right([e[:2] for e in entries], key)
        entries.insert(index, (key[0], key[1], handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
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
        # let other tasks finish their on()/off() calls before we look
        await asyncio.sleep(0)
        snapshot = [e[2] for e in self._listeners.get(event, ())]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
