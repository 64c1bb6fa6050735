"""Bug: catches the handler's exception and raises a fresh exception of the same type with the same arguments (to hide the wrapper from the traceback), so the bus sees a copy, not the handler's own exception object.

Breaks rule 10: "its exception reaches the bus (do not catch it, do not wrap it in another): the bus goes on with the other listeners and returns that very exception in the emit's result".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""

    def install(fn: Callable[..., Any]) -> Callable[..., Any]:
        fired = False

        @functools.wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            bus.off(event, wrapper)
            try:
                result = fn(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                # same type and message, without our wrapper frame in the traceback
                raise type(exc)(*exc.args) from None

        bus.on(event, wrapper, priority=priority)
        return fn

    if handler is None:
        return install
    return install(handler)
