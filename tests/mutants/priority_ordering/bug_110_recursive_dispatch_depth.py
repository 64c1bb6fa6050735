"""Bug: emit walks the listeners by recursion (each listener's step awaits a coroutine for the rest of the chain), so an event with about a thousand listeners or more dies with ``RecursionError`` instead of running them.

Breaks: "`async emit(event, *args, **kwargs) -> None` | calls every listener of `event` with `*args, **kwargs`" and "`emit` returns only after the last listener finished." ... Register 2000 plain listeners on `"e"` and `await emit("e")`: a `RecursionError` comes out after roughly the first thousand have run, and the rest never run.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority: [handler, ...]} (each list in registration order)
        self._levels: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._levels.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._levels.get(event)
        if not levels:
            return
        for priority in list(levels):
            kept = [h for h in levels[priority] if not h == handler]
            if kept:
                levels[priority] = kept
            else:
                del levels[priority]
        if not levels:
            del self._levels[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._levels.get(event, {})
        chain = tuple(
            handler
            for priority in sorted(levels, reverse=True)
            for handler in levels[priority]
        )
        await self._run_from(chain, 0, args, kwargs)

    async def _run_from(
        self, chain: Sequence[Callable[..., Any]], index: int,
        args: tuple[Any, ...], kwargs: dict[str, Any],
    ) -> None:
        """Run ``chain[index]``, then the rest of the chain."""
        if index >= len(chain):
            return
        result = chain[index](*args, **kwargs)
        if inspect.isawaitable(result):
            await result
        await self._run_from(chain, index + 1, args, kwargs)
