"""Style: a sync closure whose listener delegates to a ``nonlocal`` step function; the first step rebinds the step to a no-op before doing anything else, and the decorator is a ``functools.partial`` of ``once`` itself.

Follows: "runs on the next emit of `event`, and never again" and "A sync handler too: ... the handler's own `bus.emit(event)` can reach your listener again before the handler has returned" (the step is rebound to ``_spent`` before the handler is called, so a re-entrant or concurrent call finds the no-op); "Once called it has run, even if the emit is cancelled while it runs"; "It fired when it was called: its listener is off the bus from then on" (``bus.off(event, listener)`` with the key it was registered under, so a pattern is emptied too); "`bus.off(event, handler)` ... means it never runs" (``listener.__wrapped__ = handler``); "each use is a registration of its own, as a call is" (the partial calls ``once`` again for every use); "a falsy one too ... the decorator form is the one without a handler (`handler is None`)"; "What `bus.on` refuses, `once` refuses too ... in every call form, the decorator too" (``bus.on(event, priority=priority)`` validates before the partial is returned); "pass it on unchanged"; "the handler gets exactly the positional and keyword arguments given to `emit`"; "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... once" (a coroutine of ours awaits it one time; anything else is dropped as a value); "its exception reaches the bus (do not catch it, do not wrap it in another)"; "your `once` removes only its own wrapper".
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


async def _await_once(awaitable: Any) -> Any:
    return await awaitable


def _spent(*args: Any, **kwargs: Any) -> None:
    return None


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)  # same refusal as bus.on; nothing is registered
        return functools.partial(once, bus, event, priority=priority)

    def first(*args: Any, **kwargs: Any) -> Any:
        nonlocal step
        step = _spent
        bus.off(event, listener)
        result = handler(*args, **kwargs)
        return _await_once(result) if inspect.isawaitable(result) else None

    step: Callable[..., Any] = first

    def listener(*args: Any, **kwargs: Any) -> Any:
        return step(*args, **kwargs)

    listener.__wrapped__ = handler  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)
    return handler
