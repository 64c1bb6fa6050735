"""Breaks: "A listener that raises: its exception comes out of emit at once ... It is the
listener's own exception, not another one wrapping it".
Instead the except clause reads `outcome`, which is only set once a listener has returned.
Shows when the first listener of an emit raises while being called (a plain function, a
one-parameter function given other arguments): UnboundLocalError replaces its exception.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority number -> handlers of that priority, in registration order}
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._buckets.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._buckets.get(event)
        if not levels:
            return
        for level in list(levels):
            # a new list, never an edit in place: a running emit keeps its own tuple anyway
            kept = [h for h in levels[level] if h != handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]
        if not levels:
            del self._buckets[event]

    def _snapshot(self, event: str) -> tuple[Callable[..., Any], ...]:
        levels = self._buckets.get(event, {})
        return tuple(
            handler
            for level in sorted(levels, reverse=True)
            for handler in levels[level]
        )

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = self._snapshot(event)  # taken before the first await
        for handler in snapshot:
            try:
                outcome = handler(*args, **kwargs)
                if inspect.isawaitable(outcome):
                    await outcome
            except BaseException:
                # do not leave a Task the listener started running when we stop here
                if isinstance(outcome, asyncio.Future) and not outcome.done():
                    outcome.cancel()
                raise
