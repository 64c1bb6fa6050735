"""Bug: emitting a name that contains `*` raises ValueError, as the course bus does for a wildcard pattern, instead of calling that name's listeners.

Breaks: "A `*` in a name is a character, not a wildcard (the bus's patterns are not part of this exercise): a listener of `"*"` or `"ui:*"` hears only an emit of that very name." ... `on("ui:*", f)` then `await emit("ui:*", 1)` raises `ValueError: cannot emit the pattern 'ui:*'` and f never runs.

Carried over from notebooks/05_namespaces_and_wildcards.ipynb, cell 10
(`for bad in ["ui:*", "*"]: await app.events.emit(bad)` -> ValueError: a pattern is for
listening, an emit names one concrete event).
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> sorted keys (-priority, seq) and the handlers, side by side
        self._keys: dict[str, list[tuple[int, int]]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        key = (-int(priority), self._seq)
        keys = self._keys.setdefault(event, [])
        handlers = self._handlers.setdefault(event, [])
        at = bisect.bisect_right(keys, key)
        keys.insert(at, key)
        handlers.insert(at, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        handlers = self._handlers.get(event)
        if handlers is None:
            return
        keep = [i for i, h in enumerate(handlers) if not h == handler]
        self._keys[event] = [self._keys[event][i] for i in keep]
        self._handlers[event] = [handlers[i] for i in keep]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        if "*" in event:
            raise ValueError(f"cannot emit the pattern {event!r}; emit a concrete event")
        for handler in tuple(self._handlers.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
