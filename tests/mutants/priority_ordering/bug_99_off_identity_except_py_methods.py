"""Bug: off compares with is, special-casing only Python bound methods (inspect.ismethod), so equal callables such as a builtin bound method (a list's append) or objects with their own equality are not removed.

Breaks: "off compares handlers with ==, not is"
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _same_handler(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    if inspect.ismethod(a) and inspect.ismethod(b):
        # obj.handle is a new object at each access: compare what it binds
        return a.__func__ is b.__func__ and a.__self__ is b.__self__
    return a is b


class PriorityEmitter:
    """Per event: priority -> list of handlers; levels visited from the highest down."""

    def __init__(self) -> None:
        self._buckets: dict[Any, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._buckets.setdefault(event, {}).setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        buckets = self._buckets.get(event)
        if not buckets:
            return
        for prio in list(buckets):
            buckets[prio] = [h for h in buckets[prio] if not _same_handler(h, handler)]
            if not buckets[prio]:
                del buckets[prio]

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        buckets = self._buckets.get(event, {})
        snapshot = [h for prio in sorted(buckets, reverse=True) for h in buckets[prio]]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
