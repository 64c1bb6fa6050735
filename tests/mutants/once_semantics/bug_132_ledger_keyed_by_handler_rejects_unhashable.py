"""Bug: pending registrations are filed pyee-style in a per-bus dict keyed by ``(event, handler)``, so a handler that cannot be hashed makes ``once`` raise ``TypeError``.

Breaks: "A handler is any callable, a falsy one too (an empty collection with a `__call__`), one without a hash (a `@dataclass` with a `__call__`)" ... `once(bus, "e", Greeter())` where `Greeter` is a `@dataclass` with a `__call__` (so `__hash__` is None) raises `TypeError: unhashable type` instead of registering, and so does the decorator form; hashable handlers work.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable
from typing import Any

from day25 import EventBus, EventPriority

# bus -> {(event, handler): [pending wrappers, oldest first]}, like pyee's
# ``_events[event][f] = wrapper``; weak so that a dropped bus takes its ledger along
_ledgers: weakref.WeakKeyDictionary[EventBus, dict[tuple[str, Any], list[Any]]] = (
    weakref.WeakKeyDictionary()
)


def _file(bus: EventBus, event: str, handler: Any, wrapper: Any) -> None:
    _ledgers.setdefault(bus, {}).setdefault((event, handler), []).append(wrapper)


def _unfile(bus: EventBus, event: str, handler: Any, wrapper: Any) -> None:
    ledger = _ledgers.get(bus, {})
    pending = ledger.get((event, handler), [])
    for i, w in enumerate(pending):
        if w is wrapper:
            del pending[i]
            break
    if not pending:
        ledger.pop((event, handler), None)
    bus.off(event, wrapper)


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

    state = {"fired": False}

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if state["fired"]:
            return None
        state["fired"] = True
        _unfile(bus, event, handler, wrapper)
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            return await result
        return result

    wrapper.__wrapped__ = handler  # type: ignore[attr-defined]
    _file(bus, event, handler, wrapper)
    bus.on(event, wrapper, priority=priority)
    return handler
