"""Bug: each registration is a `@dataclass(frozen=True)` record, so two registrations of the same handler on the same event at the same priority are equal and hash alike; `bus.off(event, self)` removes by equality, so a firing registration also takes away an equal one made since.

Breaks: "one a listener cancels and gives again at once runs in that emit (the old registration, in its snapshot) and in the next (the new one)." ... a HIGH listener that does `bus.off("e", h); once(bus, "e", h)` during the emit: the old registration runs `h`, and its `bus.off("e", self)` also removes the new, equal one, so the next `await bus.emit("e")` does not call `h` (likewise a `once(bus, "e", h)` given by a listener while an emit runs is lost).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(frozen=True)
class _Once:
    """One once-registration: what it is (frozen) and whether it has fired (mutable)."""

    bus: EventBus
    event: str
    handler: Callable[..., Any]
    priority: Any
    state: dict[str, bool] = field(default_factory=lambda: {"fired": False}, compare=False)

    @property
    def __wrapped__(self) -> Callable[..., Any]:  # how bus.off(event, handler) finds us
        return self.handler

    async def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self.state["fired"]:  # a re-entrant or concurrent emit still holding us
            return None
        self.state["fired"] = True
        self.bus.off(self.event, self)
        result = self.handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # validates event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    bus.on(event, _Once(bus, event, handler, priority), priority=priority)
    return handler
