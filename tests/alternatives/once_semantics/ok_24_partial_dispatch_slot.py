"""Style: no closure and no class: each registration is a ``functools.partial`` of one module-level dispatcher, bound to a small slot dict from which the first call pops the handler (``dict.pop`` with a default is the claim), and ``functools.update_wrapper`` gives the partial its ``__wrapped__``.

Follows: "**Exactly once**", "**Re-entrant emits**", "**Concurrent emits**": ``slot.pop("handler", None)`` empties the slot before the handler runs and before any await, so every later call of that partial (a nested emit, a concurrent emit's snapshot) finds nothing; "**Nothing left behind**" and "**A permanent listener survives**": the dispatcher removes exactly its own partial, ``bus.off(event, slot["listener"])``; "**Cancelling**": ``__wrapped__`` is the handler, so ``bus.off(event, handler)`` or an equal one removes it, and a running emit that already holds it still runs it once; "**The same handler given twice**": a new slot and a new partial per call; "**Decorator or call**": ``handler is None`` alone selects the decorator form, and ``handler`` itself is returned (falsy and unhashable handlers included: the slot is keyed by a string, never by the handler); "**Priority**": passed to ``bus.on`` as given; "**Arguments**": the dispatcher's own parameters are positional-only, so any keyword name (``event=``, ``slot=``, ``handler=``) reaches the handler; "**Sync and async handlers**": the handler's result goes back to the bus, which awaits it once if ``inspect.isawaitable``; "**A handler that raises**": its own exception propagates, the slot is already empty; "**Given while an emit runs**": plain ``bus.on``, so it counts from the next emit; "**Only `on` and `off`**".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _dispatch(bus: EventBus, event: str, slot: dict[str, Any], /, *args: Any, **kwargs: Any) -> Any:
    """The listener's body: claim the handler from the slot, remove the listener, call."""
    handler = slot.pop("handler", None)
    if handler is None:
        return None  # claimed already by an earlier (nested or concurrent) call
    bus.off(event, slot.pop("listener"))
    return handler(*args, **kwargs)


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

    slot: dict[str, Any] = {"handler": handler}
    listener = functools.update_wrapper(functools.partial(_dispatch, bus, event, slot), handler)
    slot["listener"] = listener
    bus.on(event, listener, priority=priority)
    return handler
