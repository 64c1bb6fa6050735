"""Bug: the emit order is cached per event and ``on`` clears the cache only when the event already has listeners; when ``off`` empties an event it drops the event but not its cache, so the first ``on`` after that (the "new event" branch) leaves the old order in place.

Breaks: "After `off`, nothing of that handler is left on that event: `on` again is a new registration" and "emit calls every listener of `event`" ... ``on("e", a)``, ``emit("e")``, ``off("e", a)``, ``on("e", b)``, ``emit("e")`` calls ``a`` again and never ``b``.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class _Entry(NamedTuple):
    priority: int
    seq: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._seq = itertools.count()
        self._entries: dict[str, list[_Entry]] = {}
        self._order: dict[str, tuple[Callable[..., Any], ...]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry = _Entry(int(priority), next(self._seq), handler)
        if event in self._entries:
            self._entries[event].append(entry)
            self._order.pop(event, None)
        else:
            self._entries[event] = [entry]  # brand-new event: nothing cached yet
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._entries.get(event)
        if entries is None:
            return
        kept = [e for e in entries if not e.handler == handler]
        if kept:
            self._entries[event] = kept
            self._order.pop(event, None)
        else:
            del self._entries[event]

    def _ordered(self, event: str) -> tuple[Callable[..., Any], ...]:
        order = self._order.get(event)
        if order is None:
            ranked = sorted(self._entries[event], key=lambda e: (-e.priority, e.seq))
            order = self._order[event] = tuple(e.handler for e in ranked)
        return order

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        if event not in self._entries:
            return
        for handler in self._ordered(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
