"""Bug: an emit with no positional arguments calls handler() with nothing, so keywords given without a payload are lost.

Breaks: "emit("e", event="x") calls handler(event="x")" (rule 8: the handler gets exactly the positional and keyword arguments given to emit).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventBus, EventPriority


@dataclass(eq=False)
class _Registration:
    bus: EventBus
    event: str
    handler: Callable[..., Any]
    fired: bool = False


def _invoke(reg: _Registration, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if not args:
        return reg.handler()  # emit("e"): no payload, call it bare
    return reg.handler(*args, **kwargs)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: Any = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            return once(bus, event, fn, priority=priority)
        return decorate

    reg = _Registration(bus, event, handler)

    @functools.wraps(handler)
    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if reg.fired:
            return
        reg.fired = True
        reg.bus.off(reg.event, wrapper)
        result = _invoke(reg, args, kwargs)
        if inspect.isawaitable(result):
            await result

    bus.on(event, wrapper, priority=priority)
    return handler
