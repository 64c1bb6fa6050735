"""Bug: once attaches a convenience cancel function to the handler (setattr on it), which fails for bound methods such as obj.handle.

Breaks: "`bus.off(event, handler)` (with the handler you were given, or an equal one such as a new `obj.handle` of the same object ...) before the event is emitted means it never runs."
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventBus, EventPriority


@dataclass
class _State:
    fired: bool = False


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        return lambda fn: once(bus, event, fn, priority=priority)

    state = _State()

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if state.fired:
            return
        state.fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    # handy for callers: handler.cancel_once() takes it off again
    handler.cancel_once = functools.partial(bus.off, event, wrapper)  # type: ignore[attr-defined]
    return handler
