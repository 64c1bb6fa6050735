"""Bug: each awaitable a listener returns is awaited with a one-second timeout (asyncio.wait_for), so a slower listener is cancelled and TimeoutError comes out of emit.

Breaks: "If what a listener returns is awaitable (inspect.isawaitable), it is awaited to the end before the next listener starts."
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

LISTENER_TIMEOUT = 1.0  # seconds; no listener should hang the emitter


class PriorityEmitter:
    """on / off / await emit, kept sorted with bisect on insert."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entries = self._by_event.setdefault(event, [])
        item = (-int(priority), next(self._counter), handler)
        bisect.insort(entries, item, key=lambda e: (e[0], e[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._by_event.get(event)
        if not entries:
            return
        self._by_event[event] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in list(self._by_event.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await asyncio.wait_for(result, timeout=LISTENER_TIMEOUT)
