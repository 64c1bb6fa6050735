"""Exercise 1: priority_ordering. A list kept in running order with bisect, one call helper.

BUG (planted): "each listener gets exactly the positional and keyword arguments given to
`emit` ..., however many and whatever their names ... `emit("e", handler="h")` calls
`listener(handler="h")` (so a helper that passes the call on takes no parameter of its own by
such a name)." The tidy-up moved "call it, await what it returns" out of `emit` into a method
`_notify(self, handler, *args, **kwargs)`. An emit with a keyword argument named `handler`
now fails with "got multiple values for argument 'handler'" before any listener runs.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(order=True)
class _Slot:
    sort_key: tuple[int, int]
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._slots: dict[str, list[_Slot]] = {}
        self._ticket = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        slot = _Slot((-int(priority), next(self._ticket)), handler)
        bisect.insort(self._slots.setdefault(event, []), slot)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._slots:
            self._slots[event] = [s for s in self._slots[event] if not s.handler == handler]

    async def _notify(self, handler: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        result = handler(*args, **kwargs)
        if isinstance(result, Awaitable) or (
            isinstance(result, Generator) and result.gi_code.co_flags & 0x100
        ):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for slot in list(self._slots.get(event, [])):
            await self._notify(slot.handler, *args, **kwargs)
