"""Style: named-tuple entries ranked by (-priority, serial), with emit draining an async generator that calls and awaits the snapshot's listeners one by one.

Follows: "a bigger priority runs earlier ... Any `int` is a priority too" (the rank is `-operator.index(priority)`, exact for any int, so `2`, `MEDIUM`, `NORMAL` and the default are one priority); "listeners of the same priority run in the order they were registered" (the serial is the second half of the rank); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts ... It is awaited once" (`_drive` awaits each result once before the next call); "each listener gets exactly the positional and keyword arguments given to `emit`" (`handler(*args, **kwargs)`, the helper takes them as one tuple and one dict); "`off(event, handler)` removes all of its registrations on that event ... compares handlers with `==`" (a new list without the entries whose handler `==` it; unknown events are ignored); "an emit works on a **snapshot** ... taken at once, before the emit first waits" (a sorted tuple is made before the generator starts); "its exception comes out of `emit` at once ... the listener's own exception" (nothing is caught: it leaves the generator and the `async for` unchanged); "`await emit(...)` returns `None`"; "a new `PriorityEmitter` holds nothing of another one's" (all state is on the instance).
"""

from __future__ import annotations

import inspect
import operator
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, NamedTuple

from day25 import EventPriority


class _Entry(NamedTuple):
    rank: tuple[int, int]  # (-priority, serial): the smallest runs first
    handler: Callable[..., Any]


async def _drive(
    handlers: Sequence[Callable[..., Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> AsyncIterator[Any]:
    """Call each handler in turn; what it returns is awaited (once) before the next one."""
    for handler in handlers:
        outcome = handler(*args, **kwargs)
        if inspect.isawaitable(outcome):
            outcome = await outcome
        yield outcome


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._entries: dict[str, list[_Entry]] = {}
        self._serial = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._serial += 1
        entry = _Entry((-operator.index(priority), self._serial), handler)
        self._entries[event] = [*self._entries.get(event, ()), entry]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._entries.get(event)
        if entries is not None:
            self._entries[event] = [e for e in entries if not e.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = tuple(
            entry.handler
            for entry in sorted(self._entries.get(event, ()), key=operator.attrgetter("rank"))
        )
        async for _ in _drive(ordered, args, kwargs):
            pass
        return None
