"""Bug: ``on`` appends when the new priority is not above the last listener's, and otherwise inserts with ``bisect_left`` on the priority alone, so a registration that has to be inserted lands before the earlier listeners of its own priority.

Breaks: "Ties: listeners of the same priority run in the order they were registered." ... ``on("e", a, HIGH)``, ``on("e", b, LOW)``, ``on("e", c, HIGH)`` then ``emit("e")`` runs c, a, b instead of a, c, b (without the LOW listener in between, c is appended and the order is right).
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(eq=False)
class _Registration:
    rank: int  # -priority: ascending rank is descending priority
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_event: dict[str, list[_Registration]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        regs = self._by_event.setdefault(event, [])
        new = _Registration(-int(priority), handler)
        if not regs or new.rank >= regs[-1].rank:
            regs.append(new)  # the common case: lowest so far, goes to the back
        else:
            at = bisect.bisect_left(regs, new.rank, key=lambda r: r.rank)
            regs.insert(at, new)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        regs = self._by_event.get(event)
        if regs is not None:
            self._by_event[event] = [r for r in regs if not r.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for reg in list(self._by_event.get(event, ())):
            value = reg.handler(*args, **kwargs)
            if inspect.isawaitable(value):
                await value
