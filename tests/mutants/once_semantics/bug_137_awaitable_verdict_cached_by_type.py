"""Bug: whether a handler's return value is awaited is decided once per type of value and cached in a module dict, so a plain generator and a ``@types.coroutine`` generator (both of type ``generator``) share one verdict.

Breaks: "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited: ... or a generator-based coroutine (`@types.coroutine`) ... Anything else, a plain generator too, is a value, not awaited" ... `once(bus, "e", plain_gen_fn)` and an emit cache "generator: not awaitable"; then `once(bus, "e", coro_gen_fn)` (a `@types.coroutine` function) and an emit: its generator is never awaited, so its body never runs (and in the other order a later plain generator is awaited and fails with TypeError).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# inspect.isawaitable runs several checks per call; a program's handlers return a
# handful of types over and over, so the answer is worked out once per type.
_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def _is_awaitable(value: Any) -> bool:
    kind = type(value)
    try:
        return _AWAITABLE_BY_TYPE[kind]
    except KeyError:
        verdict = _AWAITABLE_BY_TYPE[kind] = inspect.isawaitable(value)
        return verdict


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

    fired = False

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        nonlocal fired
        if fired:  # an emit that took its snapshot before our removal
            return None
        fired = True
        bus.off(event, wrapper)
        result = handler(*args, **kwargs)
        if _is_awaitable(result):
            result = await result
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, wrapper, priority=priority)
    return handler
