"""Bug: emit has a payload parameter defaulting to None and leaves it out when it is None, so emit of the event with the single argument None calls listener() instead of listener(None).

Breaks: "each listener gets exactly the positional and keyword arguments given to emit, however many"
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Per-event list of [priority, number, handler], sorted on insert."""

    def __init__(self) -> None:
        self.listeners: dict[str, list[list[Any]]] = {}
        self.count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self.count += 1
        regs = self.listeners.setdefault(event, [])
        regs.append([int(priority), self.count, handler])
        regs.sort(key=lambda r: (-r[0], r[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        regs = self.listeners.get(event)
        if regs:
            regs[:] = [r for r in regs if r[2] != handler]

    async def emit(self, event: str, payload: Any = None, *args: Any, **kwargs: Any) -> None:
        call_args = args if payload is None else (payload, *args)
        for _, _, handler in [list(r) for r in self.listeners.get(event, [])]:
            res = handler(*call_args, **kwargs)
            if inspect.isawaitable(res):
                await res
