"""Style: each event holds one immutable, frozen-dataclass plan (handlers already in run order, with their priorities), replaced as a whole by on and off; an emit just keeps the plan it found.

Follows: "a bigger priority runs earlier" and "ties in registration order" / "on again ... runs once, after the listeners of its priority registered before it" (on inserts after every listener whose priority is >= its own: the count of those is its place); "A priority is its number, however it is spelled" (int(priority)); "The default priority is MEDIUM"; "registering the same handler twice makes it run twice" (one slot per on); "`off` ... removes all of its registrations on that event, and no other handler", comparing "with `==`, not `is`" (a new plan without the slots whose handler == handler); "an emit works on a snapshot of the listeners taken when it starts" (the plan object read before the first call never changes); "If what a listener returns is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts", once; "exactly the positional and keyword arguments given to emit"; a listener's own exception, or a cancellation, comes out of the loop unchanged and the rest does not run; emit returns None; the plans live in the object.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True)
class _Plan:
    priorities: tuple[int, ...] = ()
    handlers: tuple[Callable[..., Any], ...] = ()

    def with_listener(self, handler: Callable[..., Any], priority: int) -> _Plan:
        place = sum(1 for p in self.priorities if p >= priority)
        return _Plan(
            self.priorities[:place] + (priority,) + self.priorities[place:],
            self.handlers[:place] + (handler,) + self.handlers[place:],
        )

    def without(self, handler: Callable[..., Any]) -> _Plan:
        kept = [(p, h) for p, h in zip(self.priorities, self.handlers) if not h == handler]
        return _Plan(tuple(p for p, _ in kept), tuple(h for _, h in kept))


_EMPTY = _Plan()


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._plans: dict[str, _Plan] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._plans[event] = self._plans.get(event, _EMPTY).with_listener(handler, int(priority))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._plans:
            self._plans[event] = self._plans[event].without(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        plan = self._plans.get(event, _EMPTY)
        for handler in plan.handlers:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
