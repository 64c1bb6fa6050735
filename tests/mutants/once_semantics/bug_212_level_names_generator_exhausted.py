"""Bug: level_names_generator_exhausted.
Breaks rule 7: "A priority is anything bus.on takes: ... a level name such as "high" ...;
pass it on unchanged." Level names are checked against a module-level generator
expression, which `in` consumes: the first name given ("high") is found, later ones
that come before it ("low", "medium") or any name once it is used up are refused with
ValueError. The first string priority works; a later one is wrongly refused.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# the names bus.on knows, in lower case, for refusing a typo at once (decorator form too)
_LEVEL_NAMES = (name.lower() for name in EventPriority.__members__)


def _check_level_name(priority: Any) -> None:
    if isinstance(priority, str) and priority.strip().lower() not in _LEVEL_NAMES:
        raise ValueError(f"unknown priority {priority!r}")


def _arm(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    ticket: deque[Callable[..., Any]] = deque([handler])

    @functools.wraps(handler)
    def fire_once(*args: Any, **kwargs: Any) -> Any:
        try:
            fn = ticket.popleft()
        except IndexError:
            return None  # spent: a re-entrant or concurrent emit still had us
        bus.off(event, fire_once)
        # whatever fn returns goes back to the bus, which awaits it (once) when it is
        # awaitable and leaves any other value alone
        return fn(*args, **kwargs)

    bus.on(event, fire_once, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    _check_level_name(priority)
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            _arm(bus, event, fn, priority)
            return fn

        return register
    _arm(bus, event, handler, priority)
    return handler
