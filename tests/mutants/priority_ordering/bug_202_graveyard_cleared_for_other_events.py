"""Bug: `off` only records a "grave" and every 16th `off` compacts the event it was called for and then clears all graves, so handlers removed from other events since the last compaction come back.

Breaks: "After `off`, nothing of that handler is left on that event" and "`off(event, handler)` removes all of its registrations on that event" ... `on("a", h)`, `off("a", h)`, then 15 `off` calls on an event "b" that has a listener: the 16th compacts "b" only and forgets the grave of `h`, so `emit("a")` runs `h` again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority

COMPACT_EVERY = 16  # offs between two compactions


class Reg(NamedTuple):
    priority: int
    seq: int
    handler: Callable[..., Any]


class Grave(NamedTuple):
    event: str
    handler: Callable[..., Any]
    before: int     # registrations with a smaller seq are gone


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._regs: dict[str, list[Reg]] = {}   # registration order
        self._graves: list[Grave] = []
        self._seq = 0
        self._offs = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._regs.setdefault(event, []).append(Reg(int(priority), self._seq, handler))
        self._seq += 1
        return handler

    def _dead(self, event: str, reg: Reg) -> bool:
        return any(g.event == event and reg.seq < g.before and reg.handler == g.handler
                   for g in self._graves)

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._regs:
            return
        # cheap: remember the removal, drop the registrations later in one go
        self._graves.append(Grave(event, handler, self._seq))
        self._offs += 1
        if self._offs % COMPACT_EVERY == 0:
            self._compact(event)

    def _compact(self, event: str) -> None:
        self._regs[event] = [r for r in self._regs[event] if not self._dead(event, r)]
        self._graves.clear()

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        live = [r for r in self._regs.get(event, ()) if not self._dead(event, r)]
        live.sort(key=lambda r: (-r.priority, r.seq))
        for reg in live:
            result = reg.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
