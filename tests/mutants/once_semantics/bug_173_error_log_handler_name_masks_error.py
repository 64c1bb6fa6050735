"""Bug: when the handler raises, the wrapper logs it with ``handler.__name__`` before re-raising, so for a handler that has no ``__name__`` (a callable object, a ``functools.partial``) the log line itself raises ``AttributeError``, and that, not the handler's exception, is what reaches the bus.

Breaks: "**A handler that raises** counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result, as for any listener (a handler's `ValueError` is a `ValueError` in `result.errors`)" with "A handler is any callable" ... an instance of `class Boom: def __call__(self, x): raise ValueError(x)` given with `once(bus, "e", Boom())`: `emit("e", 1)` returns `errors == (AttributeError(...),)` instead of the `ValueError`; a plain `def` handler is reported correctly.
"""

from __future__ import annotations

import collections
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

logger = logging.getLogger(__name__)


def _wrapper_for(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    ticket = collections.deque([None])  # one ticket; popleft() takes it

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if not ticket:
            return
        ticket.popleft()
        bus.off(event, wrapper)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception:
            logger.debug("once handler %s for %r raised", handler.__name__, event)
            raise

    return wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:

        def register(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)

        return register
    if not callable(handler):
        raise TypeError(f"a listener must be callable, not {handler!r}")
    bus.on(event, _wrapper_for(bus, event, handler), priority=priority)
    return handler
