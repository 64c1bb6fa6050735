"""Bug: off() stops at the first match unless on() noticed a duplicate registration, and on() spots duplicates with `is`, so a handler registered twice as two equal but distinct objects (two `obj.handle` accesses) is only half removed.

Breaks: "`off(event, handler)` removes all of its registrations on that event" and "`off` compares handlers with `==`, not `is`: `obj.handle` is a new bound-method object at every access" ... `on("e", obj.handle)`, `on("e", obj.handle)`, `off("e", obj.handle)`, `emit("e")` still calls `obj.handle` once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(-priority, seq, handler), ...] kept sorted
        self._regs: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        # events on which some handler is registered more than once
        self._has_duplicates: set[str] = set()
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        regs = self._regs.setdefault(event, [])
        if any(h is handler for _, _, h in regs):
            self._has_duplicates.add(event)
        key = (-int(priority), self._seq)
        self._seq += 1
        index = len(regs)
        while index and regs[index - 1][:2] > key:
            index -= 1
        regs.insert(index, (*key, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        regs = self._regs.get(event)
        if not regs:
            return
        if event not in self._has_duplicates:
            # common case: every handler is there at most once, so the first
            # match is the only one and the scan can stop there
            for index, (_, _, h) in enumerate(regs):
                if h == handler:
                    self._regs[event] = regs[:index] + regs[index + 1:]
                    break
        else:
            self._regs[event] = [reg for reg in regs if not reg[2] == handler]
        if not self._regs[event]:
            del self._regs[event]
            self._has_duplicates.discard(event)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [h for _, _, h in self._regs.get(event, ())]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
