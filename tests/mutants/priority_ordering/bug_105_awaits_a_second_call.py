"""Bug: emit calls the listener once to test its result and, when that is awaitable, calls it AGAIN and awaits the second result.

Breaks the method table: "async emit(event, *args, **kwargs) -> None | calls every
listener of event with *args, **kwargs" (once per registration: "registering the same
handler twice makes it run twice"), and rule 3: "If what a listener returns is
awaitable (inspect.isawaitable), it is awaited". The awaitable returned by the first
call is dropped: an async def's first coroutine never starts (so it looks right), but a
plain function returning a coroutine or Task runs its body twice, and the first Task
runs unawaited next to the second.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(order=True, frozen=True)
class _Slot:
    rank: int  # -priority: the smallest rank runs first
    number: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with priority slots."""

    def __init__(self) -> None:
        self._slots: dict[str, list[_Slot]] = {}
        self._numbers = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._slots.setdefault(event, []).append(_Slot(-int(priority), next(self._numbers), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        slots = self._slots.get(event)
        if slots is None:
            return
        self._slots[event] = [slot for slot in slots if not slot.handler == handler]
        if not self._slots[event]:
            del self._slots[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for slot in sorted(self._slots.get(event, ())):
            handler = slot.handler
            if inspect.isawaitable(handler(*args, **kwargs)):
                await handler(*args, **kwargs)
