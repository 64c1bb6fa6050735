"""Exercise 1: priority_ordering. Priority buckets per event with a global registration counter; off matches by identity, with a special case for bound methods.

BUG (planted): the page says "`off` compares handlers with `==`, not `is` [...] The same
holds for every handler, not only Python's bound methods: `lst.append` of one list, or an
object with its own `__eq__`". This version compares with `is`, and only takes a Python
bound method apart (`__self__ is` and `__func__ is`) because that was the one case the
student knew makes a new object per access; `lst.append` (a built-in method, not
`inspect.ismethod`) and an equal object with its own `__eq__` are never found, so `off`
leaves them registered.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _is_same(a: Callable[..., Any], b: Callable[..., Any]) -> bool:
    if inspect.ismethod(a) and inspect.ismethod(b):
        # obj.handle is a fresh object every time: compare its parts
        return a.__self__ is b.__self__ and a.__func__ is b.__func__
    return a is b


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> [(counter, handler), ...]
        self._buckets: dict[str, dict[int, list[tuple[int, Callable[..., Any]]]]] = {}
        self._counter = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        buckets = self._buckets.setdefault(event, defaultdict(list))
        buckets[int(priority)].append((self._counter, handler))
        self._counter += 1
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        buckets = self._buckets.get(event)
        if buckets is None:
            return
        for level in list(buckets):
            buckets[level] = [pair for pair in buckets[level] if not _is_same(pair[1], handler)]
            if not buckets[level]:
                del buckets[level]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._buckets.get(event, {})
        snapshot = [
            handler
            for level in sorted(buckets, reverse=True)
            for _, handler in sorted(buckets[level], key=lambda pair: pair[0])
        ]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
