"""Exercise 2: once_semantics. A ``__slots__`` listener class with an ``async def __call__``.

BUG (planted): "whatever the handler returns that is awaitable (`inspect.isawaitable`) is
awaited: ...; falsy or not (an empty collection with an `__await__` is awaited too)"
(rule 9). The tidy-up shortened ``if result is not None and _is_awaitable(result):`` (the
shape the bus itself uses) to ``if result and _is_awaitable(result):``. ``None`` is still
skipped, but so is any awaitable that is false, such as an empty collection with an
``__await__``: it is handed back unawaited and never runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any

from day25 import EventBus, EventPriority


def _is_awaitable(value: Any) -> bool:
    """``inspect.isawaitable``: an awaitable, or a generator-based coroutine."""
    if isinstance(value, Awaitable):
        return True
    code = getattr(value, "gi_code", None)
    return isinstance(value, Generator) and code is not None and bool(code.co_flags & 0x100)


class _Once:
    """One registration of ``once``: off the bus and flagged before the handler runs."""

    __slots__ = ("__wrapped__", "_bus", "_event", "_fired")

    def __init__(self, bus: EventBus, event: str, handler: Callable[..., Any]) -> None:
        self._bus, self._event, self.__wrapped__ = bus, event, handler
        self._fired = False

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._fired:
            return None
        self._fired = True
        self._bus.off(self._event, self)
        result = self.__wrapped__(*args, **kwargs)
        if result and _is_awaitable(result):
            result = await result
        return result


def once(
    bus: EventBus,
    event: str,
    handler: Callable[..., Any] | None = None,
    *,
    priority: EventPriority = EventPriority.MEDIUM,
) -> Any:
    """Call ``handler`` on the next ``event`` only; usable as a decorator. Returns ``handler``."""
    if handler is None:
        bus.on(event, priority=priority)
        return lambda fn: once(bus, event, fn, priority=priority)
    if not callable(handler):
        raise TypeError(f"a handler must be callable, not {handler!r}")
    bus.on(event, _Once(bus, event, handler), priority=priority)
    return handler
