"""Bug: `emit` copies the listener list one page of 32 at a time, so only the first 32 listeners are snapshotted when the emit starts and the later pages are read from the live list after listeners already ran.

Breaks: "an emit works on a **snapshot** of the listeners taken when it starts. A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one (a listener removed meanwhile still runs in this emit; one added meanwhile does not)." ... With 40 listeners on "e", the first calling `off("e", last)` (the 40th), the 40th no longer runs in that very emit; a first listener that calls `on("e", x, priority=10)` shifts the list so that listener 32 runs twice.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from day25 import EventPriority

# Copy the listeners a page at a time: an event with thousands of listeners
# does not need one big copy up front.
PAGE_SIZE = 32


@dataclass(order=True)
class Registration:
    rank: int                      # -priority: smaller runs earlier
    ticket: int                    # registration number: ties in registration order
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registry: dict[str, list[Registration]] = {}
        self._ticket = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        regs = self._registry.setdefault(event, [])
        regs.append(Registration(-int(priority), next(self._ticket), handler))
        regs.sort()
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        regs = self._registry.get(event)
        if regs is None:
            return
        regs[:] = [reg for reg in regs if not reg.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        regs = self._registry.get(event)
        if not regs:
            return
        start = 0
        while True:
            page = regs[start:start + PAGE_SIZE]   # a copy: on/off meanwhile do not touch it
            for reg in page:
                result = reg.handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            if len(page) < PAGE_SIZE:
                return
            start += PAGE_SIZE
