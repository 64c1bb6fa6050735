"""Exercise 1: priority_ordering. Registration records sorted at emit; off has an explicit helper that takes bound methods apart (function and object) before comparing.

BUG (planted): the page says "The same object, not an equal one: `a.handle` and `b.handle`
of two equal dataclass instances are two handlers, as Python's own `==` on them says."
This version compares two bound methods by `a.__func__ is b.__func__ and a.__self__ ==
b.__self__` (the student took "off compares with ==" to mean == on the bound objects), so
the methods of two equal but distinct dataclass instances count as one handler and
`off("e", a.handle)` also removes `b.handle`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


def _matches(registered: Callable[..., Any], given: Callable[..., Any]) -> bool:
    """Bound methods are new objects at every access: compare what they are made of."""
    if inspect.ismethod(registered) and inspect.ismethod(given):
        return registered.__func__ is given.__func__ and registered.__self__ == given.__self__
    return bool(registered == given)


@dataclass
class _Slot:
    priority: int
    index: int
    handler: Callable[..., Any]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._slots: dict[str, list[_Slot]] = {}
        self._index = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._slots.setdefault(event, []).append(_Slot(int(priority), self._index, handler))
        self._index += 1
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        slots = self._slots.get(event)
        if slots:
            self._slots[event] = [s for s in slots if not _matches(s.handler, handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for slot in sorted(self._slots.get(event, []), key=lambda s: (-s.priority, s.index)):
            outcome = slot.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
