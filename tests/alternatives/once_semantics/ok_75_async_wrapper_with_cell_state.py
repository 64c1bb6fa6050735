"""Exercise 2: once_semantics.

An async def wrapper (so every emit that reaches it is awaited; rule 15 allows the lazy
emit). Its state is a one-element list in the enclosing call: no attribute of the
handler is copied onto the wrapper, only its __wrapped__ is set, for bus.off. The wrapper claims its turn (flag
and bus.off) before it calls the handler, then awaits the handler's result once if it
is awaitable. The decorator form is functools.partial of once itself, after bus.on has
checked the event and the priority without registering anything.
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
    if handler is None:
        bus.on(event, None, priority=priority)  # validates; with no handler it registers nothing
        return functools.partial(once, bus, event, priority=priority)
    if not callable(handler):
        raise TypeError(f"handler must be callable, got {handler!r}")

    spent = [False]

    async def one_shot(*args: Any, **kwargs: Any) -> None:
        if spent[0]:
            return
        spent[0] = True
        bus.off(event, one_shot)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    one_shot.__wrapped__ = handler  # what bus.off(event, handler) looks for
    bus.on(event, one_shot, priority=priority)
    return handler
