"""Emit keywords named like the helper's parameters (bus, event, handler) collide with them.

Breaks: "the handler gets exactly the positional and keyword arguments given to emit,
however many" (rule 8): the listener is functools.partial(_deliver, bus, event, handler,
me), so emit("e", 1, event="x") makes _deliver get event twice (a TypeError) and the
handler never runs. Written for the fifth blind batch as a correct solution (a sync
partial wrapper made to look like the handler with functools.update_wrapper); the
emit-keywords probe of the fourth batch took a point from it, and it is kept as a bug
of that rule.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _deliver(bus: EventBus, event: str, handler: Callable[..., Any], me: list[Any],
             *args: Any, **kwargs: Any) -> Any:
    listener = me.pop() if me else None
    if listener is None:
        return None  # fired already (a re-entrant or concurrent emit's snapshot)
    bus.off(event, listener)
    return handler(*args, **kwargs)


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
    me: list[Any] = []
    listener = functools.update_wrapper(functools.partial(_deliver, bus, event, handler, me),
                                        handler)
    me.append(listener)
    bus.on(event, listener, priority=priority)
    return handler
