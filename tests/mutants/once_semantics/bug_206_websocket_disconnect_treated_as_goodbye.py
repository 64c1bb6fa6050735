"""Bug: the wrapper catches ``WebSocketDisconnect`` from the handler as "a normal goodbye, not an error", so that exception never reaches the bus.

Breaks: "A handler that raises counts as fired (it never runs again), and its exception reaches the bus (do not catch it, do not wrap it in another): ... returns that very exception in the emit's result, as for any listener ..., whatever its type" ... a handler that raises `WebSocketDisconnect(1001)` (a welcome sent to a tab that just closed): `(await bus.emit("e", 1)).errors` is empty instead of holding that exception.

Carried over from notebooks/09_chat_application.ipynb, cell 3 (``except WebSocketDisconnect:
pass  # a normal goodbye, not an error``) and notebooks/12_best_practices.ipynb section 2
("handle WebSocketDisconnect separately from real errors"); the awaiting follows
notebooks/08_error_handling.ipynb, cell 7 (``notify_all``: ``if inspect.isawaitable(result): await result``).
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

from nexios.websockets import WebSocketDisconnect

from day25 import EventBus, EventPriority

logger = logging.getLogger(__name__)


def _arm(bus: EventBus, event: str, handler: Callable[..., Any], priority: Any) -> None:
    armed = True

    @functools.wraps(handler)
    async def listener(*args: Any, **kwargs: Any) -> None:
        nonlocal armed
        if not armed:
            return
        armed = False
        bus.off(event, listener)
        try:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except WebSocketDisconnect as exc:  # a normal goodbye, not an error
            logger.info("once(%r): the peer went away (%s)", event, exc.code)

    bus.on(event, listener, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # a bad priority fails here, nothing registered

        def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
            _arm(bus, event, fn, priority)
            return fn

        return decorator
    _arm(bus, event, handler, priority)
    return handler
