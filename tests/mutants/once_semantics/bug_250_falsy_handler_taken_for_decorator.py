"""Bug: the decorator form is detected with `if not handler:` (truthiness) instead of `handler is None`, so a falsy callable handler is taken for the decorator form and never registered.

Breaks: "the decorator form is the one without a handler (`handler is None`), not one whose handler is false" ... `class Calls(list): def __call__(self, *a): self.append(a)`; `h = Calls(); once(bus, "e", h)` returns a decorator instead of `h`, registers nothing, and `await bus.emit("e", 1)` never calls `h`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if not handler:
        # decorator form: validate event and priority now (bus.on without a
        # handler registers nothing), register when the function arrives
        bus.on(event, priority=priority)

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register

    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")

    fired = False

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # a re-entrant or concurrent emit still holding us in its snapshot
            return None
        fired = True
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]  # bus.off(event, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
