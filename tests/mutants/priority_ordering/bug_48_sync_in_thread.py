"""Bug: plain (non async def) listeners are called in a worker thread, where a listener that creates a Task or Future has no running loop and fails.

Breaks: "So an async def, a plain function that returns a coroutine, a plain function that returns an asyncio.Task or Future (awaitable, but not a coroutine), and an object whose __call__ is async def are all awaited"
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Sorted registrations; blocking listeners are kept off the event loop."""

    def __init__(self) -> None:
        self._regs: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._count += 1
        self._regs.setdefault(event, []).append((int(priority), self._count, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        regs = self._regs.get(event)
        if regs:
            self._regs[event] = [r for r in regs if r[2] != handler]

    async def _call(self, handler: Callable[..., Any], args: Any, kwargs: Any) -> Any:
        if inspect.iscoroutinefunction(handler) or inspect.iscoroutinefunction(
            getattr(handler, "__call__", None)
        ):
            return handler(*args, **kwargs)
        # a plain function may block: run it in a thread so the loop stays free
        return await asyncio.to_thread(handler, *args, **kwargs)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._regs.get(event, []), key=lambda r: (-r[0], r[1]))
        for _p, _n, handler in ordered:
            result = await self._call(handler, args, kwargs)
            if inspect.isawaitable(result):
                await result
