"""Exercise 2: once_semantics. Keyword arguments the handler does not declare are dropped before the call.

BUG (planted): "Nothing trims them: a handler whose parameters do not fit raises Python's
`TypeError`, which counts as its error." To be lenient with handlers, the wrapper reads the
handler's signature and drops every emit keyword it has no parameter for (unless it takes
**kwargs), so `emit("e", 1, extra=2)` to `def h(x)` calls h(1) and reports no error.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _keywords_for(handler: Callable[..., Any], kwargs: dict[str, Any]) -> dict[str, Any]:
    """The emit's keywords the handler can take (all of them when it cannot be inspected)."""
    if not kwargs:
        return kwargs
    try:
        params = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):  # a C callable such as max: leave it alone
        return kwargs
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return kwargs
    names = {p.name for p in params if p.kind in _NAMED}
    return {k: v for k, v in kwargs.items() if k in names}


async def _settle(awaitable: Any) -> None:
    """Await what the handler returned, once."""
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks event and priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **_keywords_for(handler, kwargs))
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    bus.on(event, wrapper, priority=priority)
    return handler
