"""Bug: the emitter remembers only ONE "event being emitted" (saved and restored around each emit) and copies a list before editing it only for that event, so while an inner emit of another event runs, off() on the outer event edits in place the list the outer emit is still walking.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one (a listener removed meanwhile still runs in this emit" and "That inner emit is an emit like any other ... and runs to its end before the outer emit goes on." ... "a" has `outer` (HIGH, awaits `emit("b")`) and `victim` (LOW); "b" has a listener calling `off("a", victim)`: `await emit("a")` never calls `victim`.
"""

from __future__ import annotations

import inspect
from bisect import insort
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from day25 import EventPriority


@dataclass(order=True)
class _Reg:
    key: tuple[int, int]
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._regs: dict[str, list[_Reg]] = {}
        self._current: str | None = None  # the event being emitted, if any
        self._order = count()

    def _editable(self, event: str) -> list[_Reg]:
        regs = self._regs.setdefault(event, [])
        if event == self._current:
            regs = self._regs[event] = regs.copy()
        return regs

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        insort(self._editable(event), _Reg((-int(priority), next(self._order)), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._regs:
            return
        regs = self._editable(event)
        regs[:] = [reg for reg in regs if not reg.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        regs = self._regs.get(event)
        if not regs:
            return None
        previous, self._current = self._current, event
        try:
            for reg in regs:
                result = reg.handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._current = previous
        return None
