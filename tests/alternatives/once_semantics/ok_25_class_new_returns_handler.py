"""Style: ``once`` is itself a class whose ``__new__`` registers a fresh, slotted instance as the listener (a sync ``__call__`` that hands the handler's result back for the bus to await) and returns the handler, never the instance.

Follows: "`handler` runs on the next emit of `event`, and never again" (the instance claims ``_fired`` and calls ``bus.off(event, self)`` before it calls the handler, so a re-entrant emit's new snapshot no longer holds it and a snapshot taken earlier finds ``_fired``); "A sync handler too" (the claim happens before the handler is called); "**Concurrent emits**: ... runs the handler once in total" (the claim is plain synchronous code, no await in between); "`bus.off(event, handler)` (with the handler you were given, or an equal one ...)" (``__wrapped__`` is the handler, so the bus finds the instance; cancelling mid-emit leaves the snapshot's call to run it that once); "**Nothing left behind**" (``bus.off(event, self)`` under the very event or pattern it was given); "`once(bus, "e", handler)`, `once(bus=bus, event="e", handler=handler)` and `@once(bus, "e")` all work ... and all return `handler` itself" (``__new__`` returns ``handler``; without one, a ``functools.partial`` of the class is the decorator; ``handler is None`` decides); "A handler is any callable, a falsy one too ... one without a hash ... a C callable" (nothing hashes, tests the truth of, inspects or weak-references the handler; ``__slots__`` keeps the handler's attributes from being copied over ours); "pass it on unchanged" (``priority`` goes to ``bus.on`` as given); "the handler gets exactly the positional and keyword arguments given to `emit`" (``__call__(self, /, *args, **kwargs)`` forwards them untouched); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited ... It is awaited once" (the result goes back to the bus, which awaits what ``inspect.isawaitable`` accepts, once); "**A handler that raises** counts as fired ... do not catch it" (nothing catches; it was claimed and removed before the call); "**The same handler given twice** makes two registrations" and "**A permanent listener survives**" (one instance per call, and only ``bus.off(event, self)``); "counts from the next emit" (a plain ``bus.on``, so the snapshot rule applies); "**Only `on` and `off` register and remove**".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


class once:  # noqa: N801 - the exercise's public name
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``.

    ``once(bus, event, handler)`` never gives back an instance: ``__new__`` puts
    one on the bus as the listener and returns ``handler`` itself.
    """

    __slots__ = ("__wrapped__", "_bus", "_event", "_fired", "_handler")

    def __new__(
        cls,
        bus: EventBus,
        event: str,
        handler: Callable[..., Any] | None = None,
        *,
        priority: EventPriority = EventPriority.MEDIUM,
    ) -> Any:
        if handler is None:
            return functools.partial(cls, bus, event, priority=priority)
        listener = object.__new__(cls)
        listener._bus = bus
        listener._event = event
        listener._handler = handler
        listener._fired = False
        listener.__wrapped__ = handler  # how bus.off(event, handler) finds this listener
        bus.on(event, listener, priority=priority)
        return handler

    def __call__(self, /, *args: Any, **kwargs: Any) -> Any:
        if self._fired:  # an emit whose snapshot still holds us
            return None
        self._fired = True
        self._bus.off(self._event, self)  # only this registration
        return self._handler(*args, **kwargs)  # the bus awaits it if it is awaitable

    def __repr__(self) -> str:
        state = "fired" if self._fired else "pending"
        return f"<once {self._event!r} {self._handler!r} {state}>"
