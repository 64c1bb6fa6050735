"""Style: registrations are versions stamped by a logical clock (born at `on`, ended at `off`), and an emit calls, in (priority, birth) order, the versions that were alive at the tick it started.

Follows: "registers `handler` for `event` and returns it unchanged" (`on` returns `handler`); "a bigger priority runs earlier" / "Any `int` is a priority too" / "`2`, `EventPriority.MEDIUM`, `EventPriority.NORMAL` and the default are one priority" (sort key `-int(priority)`, exact ints); "listeners of the same priority run in the order they were registered" (the birth tick breaks ties and only grows); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once" (one `await result`); "each listener gets exactly the positional and keyword arguments given to `emit`" (`handler(*args, **kwargs)`, no own keyword parameters); "registering the same handler twice makes it run twice" / "`off(event, handler)` removes all of its registrations on that event" / "Removing a handler or event that is not there does nothing" / "`on` again is a new registration" (every `on` is a new version; `off` ends all live versions that are `==` the handler); "`off` compares handlers with `==`, not `is`" (`version.handler == handler`); "an emit works on a **snapshot** of the listeners taken when it starts" (the order and the start tick are taken before the first call: a version ended later is still alive at that tick, one born later is not in the order); "its exception comes out of `emit` at once" (no try/except); "`await emit(...)` returns `None`"; "An event is its exact name" / "keep the state in the object" (a dict on the instance keyed by the name as given).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(slots=True, eq=False)
class _Version:
    priority: int
    born: int
    handler: Callable[..., Any]
    ended: int | None = None

    def alive_at(self, tick: int) -> bool:
        return self.born <= tick and (self.ended is None or tick < self.ended)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._clock = 0
        self._logs: dict[str, list[_Version]] = {}  # live versions only, oldest first

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        version = _Version(int(priority), self._tick(), handler)
        self._logs.setdefault(event, []).append(version)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        log = self._logs.get(event)
        if not log:
            return
        now = self._tick()
        for version in log:
            if version.handler == handler:
                version.ended = now
        live = [version for version in log if version.ended is None]
        if live:
            self._logs[event] = live
        else:
            del self._logs[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        tick = self._clock
        order = sorted(self._logs.get(event, ()), key=lambda v: (-v.priority, v.born))
        for version in order:
            if not version.alive_at(tick):
                continue
            result = version.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
