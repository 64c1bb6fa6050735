"""Bug: listeners are held through weak references (to avoid leaks), so a handler nobody else keeps alive silently disappears.

Breaks: "`on(event, handler, priority=EventPriority.MEDIUM) -> handler` | registers `handler`
for `event`" and "`async emit(event, *args, **kwargs) -> None` | calls every listener of
`event`" (a lambda registered as in the example never runs).
"""

from __future__ import annotations

import inspect
import itertools
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _make_ref(handler: Callable[..., Any]) -> Callable[[], Any]:
    """A weak reference that gives the handler back, or a strong one if weak is impossible."""
    try:
        if inspect.ismethod(handler):
            return weakref.WeakMethod(handler)
        return weakref.ref(handler)
    except TypeError:  # builtins and the like cannot be weakly referenced
        return lambda: handler


class PriorityEmitter:
    """Entries (-priority, seq, ref) per event; dead references are dropped."""

    def __init__(self) -> None:
        self._entries: dict[str, list[tuple[int, int, Callable[[], Any]]]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entries = self._entries.setdefault(event, [])
        entries.append((-int(priority), next(self._seq), _make_ref(handler)))
        entries.sort(key=lambda e: (e[0], e[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._entries.get(event)
        if entries is None:
            return
        self._entries[event] = [e for e in entries if e[2]() is not None and e[2]() != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        snapshot = [e[2]() for e in self._entries.get(event, [])]
        for handler in snapshot:
            if handler is None:  # garbage collected meanwhile
                continue
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
