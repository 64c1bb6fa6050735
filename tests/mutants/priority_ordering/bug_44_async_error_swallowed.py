"""Bug: awaitables are awaited with asyncio.wait, which never raises, so an async listener's exception is lost and the emit goes on.

Breaks: "A listener that raises: its exception comes out of emit at once, and the listeners after it do not run in that emit (like a plain for loop)."
"""

from __future__ import annotations

import asyncio
import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Buckets: event -> priority -> handlers in registration order."""

    def __init__(self) -> None:
        self._buckets: defaultdict[str, dict[int, list[Callable[..., Any]]]] = defaultdict(dict)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._buckets[event].setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        levels = self._buckets.get(event)
        if not levels:
            return
        for level in list(levels):
            remaining = [h for h in levels[level] if h != handler]
            if remaining:
                levels[level] = remaining
            else:
                del levels[level]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._buckets.get(event, {})
        plan = [h for level in sorted(levels, reverse=True) for h in list(levels[level])]
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                # wrap whatever it is in a task and wait until it is done
                task = asyncio.ensure_future(result)
                await asyncio.wait({task})
