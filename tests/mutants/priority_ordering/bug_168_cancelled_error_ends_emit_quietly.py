"""Bug: emit catches asyncio.CancelledError around the listener loop and just returns, treating it as "the caller gave up", so a listener whose awaitable ends in CancelledError makes emit return None instead of raising it.

Breaks: "a plain function that returns an `asyncio.Task` or `Future` (awaitable, but not a coroutine; even one already done: awaiting it gives its result or raises its exception)" and "its exception comes out of `emit` at once" ... A listener that returns a cancelled Future (or awaits a cancelled task): `await emit("e")` returns None instead of raising CancelledError (and `wait_for(emit(...), t)` returns None instead of timing out).
"""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> handlers in registration order
        self._levels: dict[str, dict[int, list[Callable[..., Any]]]] = defaultdict(dict)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._levels[event].setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._levels.get(event)
        if not levels:
            return
        for level in list(levels):
            kept = [h for h in levels[level] if not h == handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        levels = self._levels.get(event, {})
        return [h for level in sorted(levels, reverse=True) for h in levels[level]]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = self._snapshot(event)
        try:
            for handler in listeners:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        except asyncio.CancelledError:
            # cancelled half way: nobody waits for the rest any more, stop quietly
            return None
        return None
