"""Bug: a single list or tuple argument is treated as the argument list and spread, so emit("e", [1, 2]) calls listener(1, 2) instead of listener([1, 2]).

Breaks: "each listener gets exactly the positional and keyword arguments given to emit, however many and whatever their names".
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """defaultdict of priority buckets per event."""

    def __init__(self) -> None:
        self._events: defaultdict[str, defaultdict[int, list[Callable[..., Any]]]] = defaultdict(
            lambda: defaultdict(list)
        )

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._events[event][int(priority)].append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event not in self._events:
            return
        buckets = self._events[event]
        for prio in list(buckets):
            buckets[prio] = [h for h in buckets[prio] if not (h == handler)]
            if not buckets[prio]:
                del buckets[prio]

    @staticmethod
    def _normalise(args: tuple[Any, ...]) -> tuple[Any, ...]:
        # allow emit("e", [a, b]) as a shorthand for emit("e", a, b)
        if len(args) == 1 and isinstance(args[0], (list, tuple)):
            return tuple(args[0])
        return args

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        if event not in self._events:
            return
        buckets = self._events[event]
        snapshot = [h for prio in sorted(buckets, reverse=True) for h in buckets[prio]]
        call_args = self._normalise(args)
        for handler in snapshot:
            result = handler(*call_args, **kwargs)
            if inspect.isawaitable(result):
                await result
