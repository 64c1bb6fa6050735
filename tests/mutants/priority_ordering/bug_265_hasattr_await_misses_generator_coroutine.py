"""Bug: awaitability is tested with `hasattr(result, "__await__")` instead of `inspect.isawaitable`, which misses generator-based coroutines.

Breaks: "or a generator-based coroutine (`@types.coroutine`, which has no `__await__`) ... are all awaited, however long they take" ... a listener `@types.coroutine def gen(): yield; log.append("body")`: emit("e") never runs its body and goes straight on to the next listener."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        self._listeners.setdefault(event, []).append((int(priority), self._seq, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not (entry[2] == handler)]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if hasattr(result, "__await__"):
                await result
        return None
