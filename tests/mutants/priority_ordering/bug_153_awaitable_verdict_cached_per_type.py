"""Bug: whether a listener's return value must be awaited is looked up in a cache keyed on the value's type, and a plain generator and a `@types.coroutine` generator share one type, so whichever of the two is seen first decides for the other.

Breaks: "a generator-based coroutine (`@types.coroutine`, which has no `__await__`) ... are all awaited" and "A plain generator (what a function with `yield` returns, without `@types.coroutine`) is not awaitable: it is a value too" ... After a listener that returned a plain generator ran once, a listener returning a `@types.coroutine` generator is never awaited (its body never runs); in the opposite order, a later plain generator is awaited and emit raises `TypeError`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any

from day25 import EventPriority

# type(result) -> does it have to be awaited? Deciding this once per type
# saves an ``inspect.isawaitable`` call for every listener of every emit.
_AWAIT_BY_TYPE: dict[type, bool] = {}


def _must_await(value: Any) -> bool:
    kind = type(value)
    verdict = _AWAIT_BY_TYPE.get(kind)
    if verdict is None:
        verdict = _AWAIT_BY_TYPE[kind] = inspect.isawaitable(value)
    return verdict


@dataclass(frozen=True)
class _Registration:
    priority: int
    order: int
    handler: Callable[..., Any] = field(compare=False)

    @property
    def sort_key(self) -> tuple[int, int]:
        return (-self.priority, self.order)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: dict[str, tuple[_Registration, ...]] = {}
        self._order = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        new = _Registration(int(priority), next(self._order), handler)
        current = self._registrations.get(event, ())
        self._registrations[event] = tuple(
            sorted((*current, new), key=lambda r: r.sort_key)
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._registrations.get(event)
        if current is None:
            return
        kept = tuple(r for r in current if not r.handler == handler)
        if kept:
            self._registrations[event] = kept
        else:
            del self._registrations[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for registration in self._registrations.get(event, ()):
            result = registration.handler(*args, **kwargs)
            if _must_await(result):
                await result
        return None
