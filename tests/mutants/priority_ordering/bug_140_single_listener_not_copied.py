"""Bug: `emit` copies the listener list into a snapshot only when the event has more than one listener; with a single listener it walks the live list, so a listener that registers another one during the emit makes the new one run in that same emit.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one (a listener removed meanwhile still runs in this emit; one added meanwhile does not)." ... with only `first` on "e", and `first` calling `on("e", second, LOW)`, `emit("e")` runs `first` then `second` instead of only `first`.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Listener:
    __slots__ = ("key", "handler")

    def __init__(self, key: tuple[int, int], handler: Callable[..., Any]) -> None:
        self.key = key
        self.handler = handler


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[_Listener]] = {}  # each list kept in call order
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listener = _Listener((-int(priority), next(self._counter)), handler)
        bisect.insort(self._by_event.setdefault(event, []), listener, key=lambda item: item.key)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        listeners = self._by_event.get(event)
        if not listeners:
            return
        listeners[:] = [item for item in listeners if not item.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = self._by_event.get(event)
        if not listeners:
            return
        if len(listeners) > 1:
            listeners = list(listeners)  # on/off during the emit must not disturb it
        for item in listeners:
            result = item.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
