"""Style: the State pattern: a sync listener object delegates each call to its current state object, and the armed state swaps in the spent one before doing anything else.

Follows: "`handler` runs on the next emit of `event`, and never again" (the first call switches the listener to SPENT, whose ``fire`` does nothing); "if a listener (or the handler itself) emits `event` again while the first emit is running, the handler still runs only once" and "`asyncio.gather(...)` ... runs the handler once in total" (the switch and ``bus.off(event, listener)`` happen before the handler is called, and an emit holding an old snapshot finds SPENT); "`bus.off(event, handler)` (with the handler you were given, or an equal one ...)" (``__wrapped__`` is the handler; a new listener object per ``once``, so given again it fires again); "after it fired, the bus holds no listener of yours for `event`" and "`event` may be a wildcard pattern" (it removes itself under the very key it was registered with); "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work, each with or without `priority=`, and all return `handler` itself" and "the decorator form is the one without a handler (`handler is None`)"; "pass it on unchanged" (``priority`` goes to ``bus.on`` as given); "the handler gets exactly the positional and keyword arguments given to `emit`" (``__call__(self, *args, **kwargs)``, the allowed ``self``); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" (the listener returns the handler's result and the bus awaits an awaitable result once, like any listener's); "A handler that raises counts as fired ... its exception reaches the bus" (nothing is caught; the state already switched); "The same handler given twice makes two registrations" and "your `once` removes only its own wrapper" (each listener offs only itself); "Given while an emit runs ... counts from the next emit" (a plain ``bus.on``); "Only `on` and `off` register and remove".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class _Armed:
    """Not fired yet: the next call is the one."""

    def fire(self, listener: _OnceListener, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        listener.state = SPENT  # first: any emit from here on finds it spent
        listener.bus.off(listener.event, listener)
        return listener.handler(*args, **kwargs)


class _Spent:
    """Fired (or firing): reached again only by an emit holding an old snapshot."""

    def fire(self, listener: _OnceListener, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return None


ARMED = _Armed()
SPENT = _Spent()


class _OnceListener:
    """What is registered with ``bus.on``; ``bus.off(event, handler)`` finds it by ``__wrapped__``."""

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self.bus = bus
        self.event = event
        self.handler = handler
        self.__wrapped__ = handler
        self.state: _Armed | _Spent = ARMED

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        # sync on purpose: the bus awaits what the handler returns if it is awaitable
        return self.state.fire(self, args, kwargs)


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
    bus.on(event, _OnceListener(bus, event, handler), priority=priority)
    return handler
