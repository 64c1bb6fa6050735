"""Bug: a CancelledError from what a listener returned is treated as "that listener was cancelled, go on" unless the emit's own task is being cancelled, so a returned Task or Future that was cancelled is skipped and the emit carries on.

Breaks: "a plain function that returns an `asyncio.Task` or `Future` (awaitable, but not a coroutine; even one already done: awaiting it gives its result or raises its exception)" and "its exception comes out of `emit` at once, and the listeners after it do not run in that emit" ... A listener that returns a Task it already cancelled (or one that ends cancelled): `await emit("e")` should raise CancelledError and run nothing after it; here it returns None after running the later listeners.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Registration:
    priority: int
    number: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: dict[str, tuple[_Registration, ...]] = {}
        self._next_number = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._next_number += 1
        registration = _Registration(int(priority), self._next_number, handler)
        self._registrations[event] = (*self._registrations.get(event, ()), registration)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._registrations.get(event, ())
        kept = tuple(r for r in current if not r.handler == handler)
        if kept:
            self._registrations[event] = kept
        else:
            self._registrations.pop(event, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._registrations.get(event, ()),
                         key=lambda r: (-r.priority, r.number))
        for registration in ordered:
            result = registration.handler(*args, **kwargs)
            if not inspect.isawaitable(result):
                continue
            try:
                await result
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # the emit itself is being cancelled: stop here
                # only that listener's own work was cancelled: it is over, go on
