"""BUG: implements "changes during an emit count from the next emit" by DEFERRING
on/off while an emit runs (a depth counter; queued changes are applied when the
outermost emit ends). The counter is decremented after the loop, not in a
``finally``: once a listener raised, the emitter believes an emit is still running
for ever, so every later on/off is queued and never applied (a listener added
after the failure never runs, a removed one keeps running).

Violates rule 8: "The emitter stays usable: the next emit runs every listener
again." (and rule 5 / the table: on registers, off removes).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()
        self._depth = 0
        self._deferred: list[Callable[[], None]] = []

    def on(self, event: str, handler: Callable[..., Any],
           priority: int = EventPriority.MEDIUM) -> Callable[..., Any]:
        entry = (int(priority), next(self._order), handler)

        def apply() -> None:
            self._listeners.setdefault(event, []).append(entry)

        self._change(apply)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        def apply() -> None:
            entries = self._listeners.get(event)
            if entries:
                entries[:] = [e for e in entries if e[2] != handler]

        self._change(apply)

    def _change(self, apply: Callable[[], None]) -> None:
        if self._depth:
            self._deferred.append(apply)
        else:
            apply()

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        self._depth += 1
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        self._depth -= 1  # BUG: not in a finally
        if not self._depth:
            deferred, self._deferred = self._deferred, []
            for apply in deferred:
                apply()
