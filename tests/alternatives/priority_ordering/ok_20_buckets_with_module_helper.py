"""Correct: per-priority buckets plus a module-level delivery coroutine that takes the call arguments as one tuple and one dict.

Why it is correct: buckets are keyed by int(priority) so every spelling of a number shares one bucket (rule 1) and appending keeps registration order inside a bucket (rule 2); emit flattens the buckets, biggest key first, into a fresh list before calling anything, so on and off during the emit only change later emits (rule 7) and an inner emit builds its own list (rule 11). The helper has no parameter that a keyword argument of emit could collide with, because it receives args and kwargs as plain values (rule 4). off filters every bucket with == and drops empty ones; unknown events or handlers are ignored (rules 5, 6). Results are awaited once when inspect.isawaitable is true, exceptions pass through unchanged, emit returns None, and the buckets belong to the instance (rules 3, 8, 9, 10).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from day25 import EventPriority


async def _deliver(
    listeners: Iterable[Callable[..., Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> None:
    for listener in listeners:
        result = listener(*args, **kwargs)
        if inspect.isawaitable(result):
            await result


class PriorityEmitter:
    """Buckets {event: {priority: [handler, ...]}}."""

    def __init__(self) -> None:
        self._buckets: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._buckets.setdefault(event, {}).setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        levels = self._buckets.get(event)
        if levels is None:
            return
        for level in list(levels):
            remaining = [h for h in levels[level] if not (h == handler)]
            if remaining:
                levels[level] = remaining
            else:
                del levels[level]
        if not levels:
            del self._buckets[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        levels = self._buckets.get(event, {})
        snapshot = [h for level in sorted(levels, reverse=True) for h in levels[level]]
        await _deliver(snapshot, args, kwargs)
