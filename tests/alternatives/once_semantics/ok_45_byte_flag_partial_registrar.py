"""Style: a closure whose fired flag is one byte of a ``bytearray``, that awaits an awaitable result in its own small coroutine, and whose decorator form is ``functools.partial(once, bus, event, priority=...)``.

Follows: "runs on the next emit of `event`, and never again" (the byte is set, before anything else, by the first call; every later call, from any snapshot, returns at once); "its listener is off the bus from then on, while the handler still runs" (`bus.off(event, listener)` before the handler is called); "removes only its own wrapper (`bus.off(event, wrapper)`, never `bus.off(event, handler)`)" and "`bus.off(event, handler)` (with the handler you were given, or an equal one such as a new `obj.handle` of the same object; not any wrapper of yours)" (the listener's `__wrapped__` is the handler); "each use is a registration of its own, as a call is" (each use of the partial calls `once` again); "What `bus.on` refuses, `once` refuses too ... in every call form, the decorator too" (the decorator form asks `bus.on(event, priority=priority)` first, which registers nothing); "pass it on unchanged" (priority goes to `bus.on` as given); "the handler gets exactly the positional and keyword arguments given to `emit`" (`*args, **kwargs` only); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" (one `await` in `_settle`); "its exception reaches the bus (do not catch it, do not wrap it in another)" (nothing is caught); "the decorator form is the one without a handler (`handler is None`)"; "returns `handler` itself".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _settle(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # bus.on's own refusals; without a handler it registers nothing
        return functools.partial(once, bus, event, priority=priority)

    fired = bytearray(1)

    def listener(*args: Any, **kwargs: Any) -> Any:
        if fired[0]:
            return None
        fired[0] = 1
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return _settle(result)
        return None

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
