"""Exercise 1: priority_ordering. The arguments of the running emit live on the emitter.

BUG (planted): "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e",
1), emitter.emit("e", 2))`): each calls every listener of its own snapshot, with its own
arguments." emit stores (event, args, kwargs) on `self.current` and restores the outer
one when it ends, which is right for nested emits; but two emits that interleave
overwrite each other's `current`, so listeners after an awaiting one get the other
emit's arguments (or none).
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
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()
        #: (event, args, kwargs) of the emit in progress, for listeners that ask
        self.current: tuple[str, tuple[Any, ...], dict[str, Any]] | None = None

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if not entries:
            return
        entries[:] = [entry for entry in entries if not entry[2] == handler]
        if not entries:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(event, ()))
        outer, self.current = self.current, (event, args, kwargs)
        try:
            for _priority, _seq, handler in snapshot:
                await self._call(handler)
        finally:
            self.current = outer  # an emit inside a listener gives the outer one back
        return None

    async def _call(self, handler: Callable[..., Any]) -> None:
        assert self.current is not None
        _event, args, kwargs = self.current
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result
