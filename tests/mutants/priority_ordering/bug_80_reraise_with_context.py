"""Bug: a listener's exception is re-raised as a new exception of the same class whose message names the listener, instead of the listener's own exception object.

Breaks: "It is the listener's own exception, not another one wrapping it: a listener's `ValueError` comes out of `emit` as that `ValueError`".
"""

from __future__ import annotations

import heapq
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _describe(handler: Callable[..., Any]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)


class PriorityEmitter:
    """A heap of (minus priority, sequence, handler) per event; emit pops from a copy."""

    def __init__(self) -> None:
        self._heaps: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._sequence = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        heap = self._heaps.setdefault(event, [])
        heapq.heappush(heap, (-int(priority), next(self._sequence), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        heap = self._heaps.get(event)
        if heap is None:
            return
        kept = [item for item in heap if item[2] != handler]
        heapq.heapify(kept)
        self._heaps[event] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        pending = list(self._heaps.get(event, ()))
        while pending:
            _, _, handler = heapq.heappop(pending)
            try:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                # same exception class, so `except ValueError` still works, but
                # the message says which listener failed
                raise type(exc)(f"listener {_describe(handler)} failed: {exc}") from exc
