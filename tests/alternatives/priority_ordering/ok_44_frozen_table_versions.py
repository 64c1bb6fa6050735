"""Style: the whole emitter state is one frozen dataclass (a mapping of events to tuples of registrations, never changed once built, plus the next registration number); `on` and `off` build the next version with `dataclasses.replace`, and an emit keeps the version it started with.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in the order they were registered": each registration stores `(-priority, number)` and the tuple is sorted by it; "Any `int` is a priority too" ... "are one priority, so their listeners tie": the key uses `int(priority)`; "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once": one `await` per awaitable result; "each listener gets exactly the positional and keyword arguments given to `emit`": `handler(*args, **kwargs)`; "`off(event, handler)` removes all of its registrations on that event, and no other handler" with "`==`, not `is`": the next version drops every registration equal to it, and "Removing a handler or event that is not there does nothing"; "`on` again is a new registration": it gets a fresh, bigger number; "an emit works on a **snapshot** of the listeners taken when it starts": versions are immutable and the emit reads its tuple before awaiting; "its exception comes out of `emit` at once", "A cancellation comes out the same way" and "The emitter stays usable": nothing is caught and no state changes during an emit; "`await emit(...)` returns `None`"; "a new `PriorityEmitter` holds nothing of another one's": each starts from an empty version of its own.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from day25 import EventPriority


@dataclasses.dataclass(frozen=True)
class _Registration:
    key: tuple[int, int]  # (-priority, registration number): smaller runs first
    handler: Callable[..., Any]


@dataclasses.dataclass(frozen=True)
class _Version:
    events: Mapping[str, tuple[_Registration, ...]] = dataclasses.field(default_factory=dict)
    next_number: int = 0

    def with_events(self, event: str, registrations: tuple[_Registration, ...],
                    next_number: int | None = None) -> _Version:
        events = dict(self.events)
        if registrations:
            events[event] = registrations
        else:
            events.pop(event, None)
        return dataclasses.replace(
            self, events=events,
            next_number=self.next_number if next_number is None else next_number)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._version = _Version()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        version = self._version
        added = _Registration((-int(priority), version.next_number), handler)
        registrations = tuple(sorted((*version.events.get(event, ()), added),
                                     key=lambda registration: registration.key))
        self._version = version.with_events(event, registrations, version.next_number + 1)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        version = self._version
        current = version.events.get(event)
        if current is None:
            return
        kept = tuple(r for r in current if not r.handler == handler)
        if len(kept) != len(current):
            self._version = version.with_events(event, kept)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        registrations = self._version.events.get(event, ())
        for registration in registrations:
            result = registration.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
