"""Exercise 2: once_semantics. Positional arguments are trimmed to what the handler takes.

BUG (planted): "Nothing trims them: a handler whose parameters do not fit raises Python's
TypeError, which counts as its error". To let handlers ignore the payload, the wrapper
reads the handler's signature and drops the positional arguments it has no parameter
for: emit("e", "ann", "extra") calls def h(user) as h("ann"), and emit("e", 1) calls
def h() as h(), with no TypeError in the emit's result.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _fit(handler: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, ...]:
    """The positional arguments ``handler`` has room for (all of them if unknown)."""
    try:
        params = list(inspect.signature(handler).parameters.values())
    except (TypeError, ValueError):  # a C callable such as max: pass everything
        return args
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return args
    return args[: sum(p.kind in _POSITIONAL for p in params)]


async def _settle(awaitable: Any) -> None:
    await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # checks the name and the priority, registers nothing

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator
    if not callable(handler):
        raise TypeError(f"once needs a callable handler, not {handler!r}")

    fired = False

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*_fit(handler, args), **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    wrapper.__wrapped__ = handler
    bus.on(event, wrapper, priority=priority)
    return handler
