"""Style: an ``async def`` wrapper (lazy emits) whose single turn is a ``collections.Counter`` budget of 1, spent with ``subtract`` before anything can suspend.

Follows: "never again" and re-entrant/concurrent emits (the budget goes to 0 in the wrapper's first synchronous step, before the handler is called, so any later call, nested or concurrent, finds it spent); "It fired when it was called: its listener is off the bus from then on" (`bus.off(event, wrapper)` right after spending, never `bus.off(event, handler)`); cancelling with "the handler you were given" (`__wrapped__`) and "during an emit (...) still runs that once" (only a call spends the budget); "A handler that raises counts as fired, and its own exception reaches the bus" (nothing is caught; a StopIteration becomes RuntimeError as PEP 479 allows); "whatever the handler returns that is awaitable (`inspect.isawaitable`) is awaited", once, its result ignored; "exactly the positional and keyword arguments" (`*args, **kwargs` only); the decorator form is "the one without a handler (`handler is None`)" and every use registers anew; `priority` is passed on unchanged; "returns `handler` itself"; "Whether a sync handler runs when `emit` is called or when it is awaited" is not part of the contract.
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority


def _arm(bus: EventBus, event: str, handler: Callable[..., Any]) -> Callable[..., Any]:
    budget: Counter[str] = Counter(turns=1)

    async def wrapper(*args: Any, **kwargs: Any) -> None:
        if budget["turns"] <= 0:
            return
        budget.subtract(turns=1)
        bus.off(event, wrapper)
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            await outcome

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    return wrapper


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        bus.on(event, _arm(bus, event, fn), priority=priority)
        return fn

    return register if handler is None else register(handler)
