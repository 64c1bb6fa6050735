"""Bug: the "fired" flag is kept as an attribute of the wrapper function, set before `functools.update_wrapper(wrapper, handler)`, which copies the handler's `__dict__` over it: a handler with a truthy attribute of the same name (`called`) makes the new registration look already fired.

Breaks: "one with attributes of its own, whatever their names (`functools.wraps` copies them onto a wrapper: keep your wrapper's own state where they cannot replace it)" ... a spy handler object that sets `self.called = True` when it runs: `once(bus, "e", spy); await bus.emit("e")`, then `once(bus, "e", spy)` again and `await bus.emit("e")` never calls it (rule 4: "a handler given again ... fires again (once)").
"""

from __future__ import annotations

import functools
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
    if handler is None:
        bus.on(event, priority=priority)  # validates event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if wrapper.called:  # type: ignore[attr-defined]
            return None  # a re-entrant or concurrent emit still holding us in its snapshot
        wrapper.called = True  # type: ignore[attr-defined]
        bus.off(event, wrapper)
        return handler(*args, **kwargs)

    wrapper.called = False  # type: ignore[attr-defined]
    # name, doc and __wrapped__ (so that bus.off(event, handler) finds us)
    functools.update_wrapper(wrapper, handler)
    bus.on(event, wrapper, priority=priority)
    return handler
