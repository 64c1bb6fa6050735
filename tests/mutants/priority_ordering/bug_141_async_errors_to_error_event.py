"""Bug: like pyee's AsyncIOEventEmitter, an exception raised while awaiting what a listener returned is handed to the listeners of the "error" event (when there are any) and the emit goes on, instead of coming out of emit.

Breaks: "A listener that raises: its exception comes out of `emit` at once, and the listeners after it do not run in that emit (like a plain `for` loop)." and "An event is its exact name" ... With on("error", log), on("e", async_boom, HIGH) (an async def raising ValueError) and on("e", after), `await emit("e", 1)` returns normally, calls log(ValueError(...)) and then after(1); it should raise the ValueError and never call after.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

ERROR_EVENT = "error"


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> handlers in registration order
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
        for level in list(levels):
            kept = [h for h in levels[level] if not h == handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]
        if not levels:
            del self._levels[event]

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        levels = self._levels.get(event, {})
        return [h for level in sorted(levels, reverse=True) for h in levels[level]]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._snapshot(event):
            result = handler(*args, **kwargs)
            if not inspect.isawaitable(result):
                continue
            try:
                await result
            except Exception as exc:
                # a failed coroutine is reported on "error", like an emitter does
                if event != ERROR_EVENT and self._levels.get(ERROR_EVENT):
                    await self.emit(ERROR_EVENT, exc)
                    continue
                raise
