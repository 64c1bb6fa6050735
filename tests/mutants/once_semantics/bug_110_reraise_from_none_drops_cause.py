"""Bug: the wrapper catches the handler's exception only to re-raise it with ``raise exc from None``, which overwrites the exception's ``__cause__`` (and suppresses its context) before the bus sees it.

Breaks: "its exception reaches the bus (do not catch it, do not wrap it in another)" ... a handler doing `raise ValueError("bad user") from KeyError("id")` gives the bus the same `ValueError`, but with `__cause__` now `None` and `__suppress_context__` True, so `result.errors[0].__cause__` and the logged traceback lose the `KeyError` (an exception raised while handling another loses that context the same way).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

log = logging.getLogger(__name__)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return decorator

    pending = [handler]  # one ticket: whoever pops it runs the handler

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not pending:
            return
        fn = pending.pop()
        bus.off(event, wrapper)
        try:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            log.debug("once handler %r for %r raised %r", fn, event, exc)
            raise exc from None  # the same exception, without our frames' chatter

    bus.on(event, wrapper, priority=priority)
    return handler
