"""Bug: "has it fired?" is read from ``functools.lru_cache``'s ``cache_info().currsize``, but the cache only records calls that returned, so a handler that raised still looks unfired to any other emit that holds the wrapper.

Breaks: "**A handler that raises** counts as fired (it never runs again)" ... with a HIGH listener that re-emits ``e`` and a sync ``once`` handler that raises ``ValueError``, ``await bus.emit("e", 1)`` runs the handler twice (with 2 in the inner emit, then again with 1 in the outer one), and the outer emit's result holds a second ``ValueError``.
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
        return functools.partial(once, bus, event, priority=priority)

    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []

    @functools.lru_cache(maxsize=1)
    def fire() -> Any:
        """The one real call: memoised, so it happens once."""
        bus.off(event, listener)
        args, kwargs = calls[-1]
        return handler(*args, **kwargs)  # the bus awaits it if it is awaitable

    def listener(*args: Any, **kwargs: Any) -> Any:
        if fire.cache_info().currsize:  # the cache holds the call: it has fired
            return None
        calls.append((args, kwargs))
        return fire()

    functools.update_wrapper(listener, handler)
    bus.on(event, listener, priority=priority)
    return handler
