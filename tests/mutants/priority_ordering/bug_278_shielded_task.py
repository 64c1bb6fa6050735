"""Exercise 1: priority_ordering. Sorted (priority, order, handler) list per event; coroutines are awaited directly, Tasks and Futures a listener hands back are awaited through ``asyncio.shield``.

BUG (planted): "What it was awaiting is cancelled with it, as `await` does: a Task a
listener returned does not go on running once the emit was cancelled." This version
awaits a returned Task or Future through ``asyncio.shield`` (reasoning that a Task the
listener started belongs to the listener, maybe shared with other code, so the emitter
must not cancel it), so when the emit is cancelled (an ``asyncio.wait_for`` around it that
runs out) the ``CancelledError`` comes out but the listener's Task outlives the emit and
keeps running to its end. A student writes it because a cancelled ``async def`` listener
is still cancelled and every returned Task that is not cancelled is awaited correctly.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Handler]]] = {}
        self._next_order = itertools.count()

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listeners = self._listeners.setdefault(event, [])
        listeners.append((int(priority), next(self._next_order), handler))
        listeners.sort(key=lambda item: (-item[0], item[1]))
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._listeners:
            self._listeners[event] = [
                item for item in self._listeners[event] if not item[2] == handler
            ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _, _, handler in list(self._listeners.get(event, ())):
            result = handler(*args, **kwargs)
            if isinstance(result, asyncio.Future):
                # a Task/Future is the listener's own work: wait for it, do not kill it
                await asyncio.shield(result)
            elif inspect.isawaitable(result):
                await result
