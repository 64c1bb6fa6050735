"""Style: each event maps a priority to an immutable tuple of handlers that ``on``/``off`` replace (never mutate); an emit takes a shallow copy of that map and repeatedly pulls out its biggest remaining level with ``max``.

Follows: "a bigger priority runs earlier" (the level with the biggest int value is taken first: ``max`` compares ints exactly, so ``2**53 + 1`` beats ``2**53``); "A priority is its number, however it is spelled" (levels are keyed by ``int(priority)``, so ``2``, ``MEDIUM``, ``NORMAL`` and the default share one level); "listeners of the same priority run in the order they were registered" (a new registration is appended to the back of its level's tuple, also after an ``off``); "off compares handlers with ==" and "removes every registration" (the tuple is rebuilt without every handler ``== handler``, an emptied level is dropped); "the snapshot is taken at once, before the emit first waits" (``dict(...)`` of immutable tuples before the first ``await``); "If what a listener returns is awaitable (inspect.isawaitable), it is awaited to the end before the next listener starts" (once); exceptions are not caught; ``emit`` returns None.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._levels: dict[str, dict[int, tuple[Callable[..., Any], ...]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._levels.setdefault(event, {})
        key = int(priority)
        levels[key] = levels.get(key, ()) + (handler,)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._levels.get(event)
        if levels is None:
            return
        for key in list(levels):
            kept = tuple(h for h in levels[key] if not h == handler)
            if kept:
                levels[key] = kept
            else:
                del levels[key]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        pending = dict(self._levels.get(event, {}))
        while pending:
            top = max(pending)
            for handler in pending.pop(top):
                outcome = handler(*args, **kwargs)
                if inspect.isawaitable(outcome):
                    await outcome
