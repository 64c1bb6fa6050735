"""Bug: `off` does not delete registrations but records how many of a handler's registrations to skip, and `emit` skips the first ones in priority order instead of the oldest ones, so once a removed handler is registered again at a higher priority its new registration is skipped and an old, removed one runs.

Breaks: "After `off`, nothing of that handler is left on that event: `on` again is a new registration, so it runs once, after the listeners of its priority registered before it (its old place is gone)." ... `on("e", a, LOW)`, `off("e", a)`, `on("e", a, HIGH)`, `on("e", b)`, `emit("e")` runs `b` then `a` (at its old LOW place) instead of `a` then `b`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> registrations in the order they were made: [priority, handler]
        self._log: dict[str, list[tuple[int, Callable[..., Any]]]] = {}
        # event -> [[handler, how many of its registrations are switched off], ...]
        self._skips: dict[str, list[list[Any]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._log.setdefault(event, []).append((int(priority), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        log = self._log.get(event)
        if not log:
            return
        # the log only grows, so switching off "all registrations so far" is a count
        total = sum(1 for _, registered in log if registered == handler)
        if not total:
            return
        skips = self._skips.setdefault(event, [])
        for pair in skips:
            if pair[0] == handler:
                pair[1] = total
                return
        skips.append([handler, total])

    def _snapshot(self, event: str) -> list[Callable[..., Any]]:
        log = self._log.get(event, [])
        order = sorted(log, key=lambda entry: -entry[0])  # stable: ties stay in log order
        left = [[handler, count] for handler, count in self._skips.get(event, [])]
        calls = []
        for _, handler in order:
            for pair in left:
                if pair[1] and pair[0] == handler:
                    pair[1] -= 1
                    break
            else:
                calls.append(handler)
        return calls

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._snapshot(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
