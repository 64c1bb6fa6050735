"""Bug: the cached call order of every event is guarded by one `dirty` flag for the whole emitter, and the first emit after a change rebuilds only its own event's order before clearing the flag, so the other events keep a stale order.

Breaks: "calls every listener of `event` with `*args, **kwargs`" ... `on("x", a)`, `on("y", b)`, `emit("x")`, `on("x", c)`, `emit("y")`, `emit("x")`: the last emit runs only `a`, not `a` then `c`.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, handler) in registration order
        self._registered: defaultdict[str, list[tuple[int, Callable[..., Any]]]] = defaultdict(list)
        self._plans: dict[str, tuple[Callable[..., Any], ...]] = {}
        self._dirty = False

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered[event].append((int(priority), handler))
        self._dirty = True
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._registered:
            return
        self._registered[event] = [(p, h) for p, h in self._registered[event] if not h == handler]
        self._dirty = True

    def _plan(self, event: str) -> tuple[Callable[..., Any], ...]:
        if self._dirty or event not in self._plans:
            entries = self._registered.get(event, [])
            # sorted() is stable, so equal priorities keep registration order
            self._plans[event] = tuple(h for _, h in sorted(entries, key=lambda e: -e[0]))
            self._dirty = False
        return self._plans[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._plan(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
