"""Exercise 2: once_semantics. A decorator class whose settings are declared as a class-level dict.

BUG (planted): "That is on the bus it was given to: nothing of it reaches another bus" and
"each use is a registration of its own, as a call is." The decorator keeps its bus, event
and priority in ``options``, a dict declared on the class and filled with
``self.options.update(...)``: one dict shared by every ``once`` ever made. A decorator
kept for later (``register = once(bus, "e")``) therefore registers with the settings of
whichever ``once`` was called last: after ``once(other_bus, "x", g)``, ``register(f)`` puts
``f`` on ``other_bus`` under ``"x"``, and the next ``"e"`` on ``bus`` never runs it. A
student declares the "fields" at class level, dataclass-style, and every decorator that is
used right away (``@once(bus, "e")``, the call form) works.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

from day25 import EventBus, EventPriority


class _OnceDecorator:
    """What ``once(bus, event)`` returns: call it with a handler to register that handler."""

    options: ClassVar[dict[str, Any]] = {}  # bus, event, priority of this decorator

    def __init__(self, bus: EventBus, event: str, priority: Any) -> None:
        bus.on(event, priority=priority)  # bus.on's own checks; registers nothing
        self.options.update(bus=bus, event=event, priority=priority)

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        _add_once(fn, **self.options)
        return fn


def _add_once(fn: Callable[..., Any], *, bus: EventBus, event: str, priority: Any) -> None:
    spent = False

    async def listener(*args: Any, **kwargs: Any) -> None:
        nonlocal spent
        if spent:
            return
        spent = True
        bus.off(event, listener)
        result = fn(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    listener.__wrapped__ = fn  # type: ignore[attr-defined]
    bus.on(event, listener, priority=priority)


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    decorator = _OnceDecorator(bus, event, priority)
    return decorator if handler is None else decorator(handler)
