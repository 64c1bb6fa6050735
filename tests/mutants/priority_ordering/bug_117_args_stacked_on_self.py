"""Bug: emit keeps its arguments on the emitter (saved and restored around each emit, like a stack), so two emits running at the same time hand each other's arguments to their listeners.

Breaks: "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 2))`): each calls every listener of its own snapshot, with its own arguments." ... With an async listener `a` (that awaits `asyncio.sleep(0)`) and a sync listener `b`, `gather(emit("e", 1), emit("e", 2))` has the first emit call `b(2)` and the second call `b()` with no arguments at all (a `TypeError` for `def b(x)`): the second emit overwrote the arguments while the first was suspended in `a`, and the first put back the empty ones when it ended.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (-priority, registration number, handler), kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()
        # the arguments of the emit in progress, read by _call
        self._args: tuple[Any, ...] = ()
        self._kwargs: dict[str, Any] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((-int(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def _call(self, handler: Callable[..., Any]) -> None:
        result = handler(*self._args, **self._kwargs)
        if inspect.isawaitable(result):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        # an inner emit (from a listener) restores the outer arguments when it ends
        saved = (self._args, self._kwargs)
        self._args, self._kwargs = args, kwargs
        try:
            for _, _, handler in snapshot:
                await self._call(handler)
        finally:
            self._args, self._kwargs = saved
