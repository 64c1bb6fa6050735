"""Bug: priority_memo_bool_hits_int.
Breaks rule 7: "priority=True (a bool is no level to the bus) raises the TypeError that
bus.on raises, and registers nothing". The levels are memoised in a module dict keyed by
the priority; True == 1 == EventPriority.LOW (same hash), so once a once at LOW (or 1) was
registered, a later priority=True finds LOW's entry and registers at LOW. The first
priority=True (memo still empty) is refused correctly; a later one is not.
"""

from __future__ import annotations

import functools
from collections import deque
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority, coerce_priority

# level of every priority seen so far: checked once, so the decorator form can refuse a
# bad priority at once(bus, event, priority=...) already, not only when it is applied
_LEVELS: dict[Any, int] = {}


def _level(priority: Any) -> int:
    try:
        return _LEVELS[priority]
    except KeyError:
        level = _LEVELS[priority] = coerce_priority(priority)  # raises what bus.on raises
        return level
    except TypeError:  # an unhashable priority: no memo, just check it
        return coerce_priority(priority)


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
    priority = _level(priority)
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            _arm(bus, event, fn, priority)
            return fn

        return register
    _arm(bus, event, handler, priority)
    return handler
