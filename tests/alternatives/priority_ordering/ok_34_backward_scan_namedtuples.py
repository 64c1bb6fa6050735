"""Style: per-event lists kept in run order at registration time by a backward linear scan (no bisect, no counter), NamedTuple records, and a small module-level coroutine that settles one call.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in the order they were registered" (on walks back from the end past every record of a smaller priority and inserts right after the last one of a bigger or equal priority, so a new one goes behind its equals); "any int" and "2, EventPriority.MEDIUM, EventPriority.NORMAL and the default are one priority" (records keep int(priority)); "registers handler and returns it unchanged"; "off(event, handler) removes all of its registrations on that event, and no other handler" and "off compares handlers with ==, not is" (the list is filtered with ==, in place of the old one); "Removing a handler or event that is not there does nothing"; "on again is a new registration ... after the listeners of its priority registered before it"; "an emit works on a snapshot ... taken at once, before the emit first waits for anything" (tuple(...) of the list first); "If what a listener returns is awaitable (inspect.isawaitable), it is awaited to the end before the next listener starts ... It is awaited once" (_settle awaits once); "each listener gets exactly the positional and keyword arguments given to emit"; "its exception comes out of emit at once ... the listeners after it do not run" (no try); "await emit(...) returns None"; "a new PriorityEmitter holds nothing of another one's" (state made in __init__).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority


class _Record(NamedTuple):
    priority: int
    handler: Callable[..., Any]


async def _settle(handler: Callable[..., Any], args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> None:
    """Call ``handler`` once and wait for what it returns, if that can be waited for."""
    outcome = handler(*args, **kwargs)
    if inspect.isawaitable(outcome):
        await outcome


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._lists: dict[str, list[_Record]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        records = self._lists.setdefault(event, [])
        spot = len(records)
        while spot > 0 and records[spot - 1].priority < level:
            spot -= 1
        records.insert(spot, _Record(level, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._lists:
            return
        remaining = [record for record in self._lists[event] if not record.handler == handler]
        if remaining:
            self._lists[event] = remaining
        else:
            del self._lists[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        frozen = tuple(self._lists.get(event, ()))
        for record in frozen:
            await _settle(record.handler, args, kwargs)
