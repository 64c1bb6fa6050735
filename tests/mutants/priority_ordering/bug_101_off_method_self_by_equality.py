"""Bug: off normalises bound methods to (__self__, __func__) tuples, so methods of two distinct but EQUAL objects count as one handler.

Breaks rule 6: "two of them are equal when they bind the same function to the same
object, so off("e", obj.handle) removes what on("e", obj.handle) added", and rule 5:
"off(event, handler) removes all of its registrations on that event, and no other
handler". Tuple comparison compares the bound objects with ==, so off("e", a.handle)
also removes b.handle when a == b (e.g. two dataclass instances with the same fields).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Registration:
    priority: int
    order: int
    handler: Callable[..., Any]


def _identity(handler: Callable[..., Any]) -> Any:
    """What ``off`` compares: a bound method is a new object at every access, so
    compare what it is made of (the object and the function) instead."""
    if inspect.ismethod(handler):
        return (handler.__self__, handler.__func__)
    return handler


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with any int as a priority."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[_Registration]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        registration = _Registration(int(priority), next(self._counter), handler)
        self._registrations.setdefault(event, []).append(registration)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        registrations = self._registrations.get(event)
        if not registrations:
            return
        target = _identity(handler)
        kept = [r for r in registrations if not _identity(r.handler) == target]
        if kept:
            self._registrations[event] = kept
        else:
            del self._registrations[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(
            self._registrations.get(event, ()),
            key=lambda r: (-r.priority, r.order),
        )
        for registration in snapshot:
            result = registration.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
