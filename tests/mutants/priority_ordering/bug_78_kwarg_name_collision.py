"""Bug: emit forwards through a helper _invoke(self, handler, *args, **kwargs), so an emit keyword argument named handler collides with the helper's own parameter and the listener never gets it.

Breaks: "each listener gets exactly the positional and keyword arguments given to `emit`, however many".
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class Listener(NamedTuple):
    priority: int
    order: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """One list of Listener tuples per event, sorted on insertion."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[Listener]] = {}
        self._orders = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        listeners = self._by_event.setdefault(event, [])
        listeners.append(Listener(int(priority), next(self._orders), handler))
        listeners.sort(key=lambda lst: (-lst.priority, lst.order))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._by_event:
            self._by_event[event] = [
                lst for lst in self._by_event[event] if lst.handler != handler
            ]

    async def _invoke(self, handler: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for listener in tuple(self._by_event.get(event, ())):
            await self._invoke(listener.handler, *args, **kwargs)
