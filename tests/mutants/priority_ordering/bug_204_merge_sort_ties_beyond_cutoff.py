"""Bug: the hand-written hybrid sort uses a stable insertion sort for up to 16 listeners but its merge step takes from the right half on equal priorities, so with 17 or more listeners ties no longer keep registration order.

Breaks: "**Ties**: listeners of the same priority run in the order they were registered." ... Register 17 listeners with the default priority on "e": `emit("e")` runs listeners 9 to 17 first, then 1 to 8.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_SMALL = 16  # below this an insertion sort beats merging


def _insertion_sort(items: list[tuple[int, Callable[..., Any]]]) -> list[tuple[int, Callable[..., Any]]]:
    out: list[tuple[int, Callable[..., Any]]] = []
    for item in items:
        pos = len(out)
        while pos > 0 and out[pos - 1][0] < item[0]:   # move before lower priorities only
            pos -= 1
        out.insert(pos, item)
    return out


def _merge(left: list[tuple[int, Callable[..., Any]]],
           right: list[tuple[int, Callable[..., Any]]]) -> list[tuple[int, Callable[..., Any]]]:
    out: list[tuple[int, Callable[..., Any]]] = []
    i = j = 0
    while i < len(left) and j < len(right):
        if left[i][0] > right[j][0]:
            out.append(left[i])
            i += 1
        else:
            out.append(right[j])
            j += 1
    out.extend(left[i:])
    out.extend(right[j:])
    return out


def by_priority(items: list[tuple[int, Callable[..., Any]]]) -> list[tuple[int, Callable[..., Any]]]:
    """Highest priority first; ties keep their order."""
    if len(items) <= _SMALL:
        return _insertion_sort(items)
    mid = len(items) // 2
    return _merge(by_priority(items[:mid]), by_priority(items[mid:]))


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registered: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered.setdefault(event, []).append((int(priority), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._registered:
            self._registered[event] = [p for p in self._registered[event] if not p[1] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _, handler in by_priority(self._registered.get(event, [])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
