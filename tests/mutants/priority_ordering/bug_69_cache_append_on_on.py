"""Bug: a cached run order is extended at the end by on, so a listener added after an emit ignores its priority.

Breaks: "a bigger priority runs earlier: HIGHEST, HIGH, MEDIUM, LOW, LOWEST" (rule 1).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Keeps the sorted run order of each event cached between emits."""

    def __init__(self) -> None:
        self._regs: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order_cache: dict[str, tuple[Callable[..., Any], ...]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._regs.setdefault(event, []).append((int(priority), next(self._seq), handler))
        cached = self._order_cache.get(event)
        if cached is not None:
            # keep the cache warm instead of sorting everything again
            self._order_cache[event] = cached + (handler,)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self._regs.get(event)
        if not regs:
            return
        self._regs[event] = [r for r in regs if r[2] != handler]
        self._order_cache.pop(event, None)

    def _order(self, event: str) -> tuple[Callable[..., Any], ...]:
        cached = self._order_cache.get(event)
        if cached is None:
            regs = sorted(self._regs.get(event, []), key=lambda r: (-r[0], r[1]))
            cached = tuple(r[2] for r in regs)
            self._order_cache[event] = cached
        return cached

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in self._order(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
