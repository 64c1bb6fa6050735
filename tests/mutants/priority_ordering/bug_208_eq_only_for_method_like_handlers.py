"""Bug: off() compares with == only handlers that are bound to an object (Python bound methods, builtin methods such as lst.append) and uses identity for every other handler, so an equal but distinct callable object is not removed.

Breaks: "The same holds for every handler, not only Python's bound methods: `lst.append` of one list, or an object with its own `__eq__`." (read as: == for things bound to an object, like the two examples) ... and "`off` compares handlers with `==`, not `is`". With a callable class whose __eq__ compares a name, on("e", Handler("audit")) then off("e", Handler("audit")) must remove it; here it still runs on the next emit.
"""

from __future__ import annotations

import heapq
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _same(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    # obj.handle and lst.append are new objects at every access: compare them with ==.
    # Anything else is one object, passed around as it is: the same object is the same handler.
    if hasattr(a, "__self__") and hasattr(b, "__self__"):
        return a == b
    return a is b


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._ticket = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        heapq.heappush(self._heaps.setdefault(event, []),
                       (-int(priority), next(self._ticket), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        heap = self._heaps.get(event)
        if heap is None:
            return
        rest = [entry for entry in heap if not _same(entry[2], handler)]
        heapq.heapify(rest)
        self._heaps[event] = rest

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._heaps.get(event, []), key=lambda entry: entry[:2])
        for _, _, handler in ordered:
            value = handler(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
