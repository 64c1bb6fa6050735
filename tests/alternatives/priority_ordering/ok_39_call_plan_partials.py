"""Style: registrations are kept unsorted in registration order; each emit first compiles a "call plan" of functools.partial objects (stable sort by priority, arguments bound) and then runs the plan step by step.

Follows: "`on(event, handler, priority=EventPriority.MEDIUM) -> handler`" (append `(int(priority), handler)`, return handler; `int()` makes `2`, `MEDIUM`, `NORMAL` one priority, any size), "a bigger priority runs earlier" / "listeners of the same priority run in the order they were registered" (`sorted(key=-priority)` is stable over registration order), "removes every registration of that `handler`" compared "with `==`" (a new list without the `==` matches; `on` again appends at the back), "an emit works on a **snapshot** ... taken at once, before the emit first waits" (the plan is built before the first await), "each listener gets exactly the positional and keyword arguments" (`partial(handler, *args, **kwargs)`), "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts ... awaited once" (one `await` per step), "its exception comes out of `emit` at once" (nothing caught), "`await emit(...)` returns `None`".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registrations: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registrations.setdefault(event, []).append((int(priority), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._registrations.get(event)
        if current is None:
            return
        remaining = [reg for reg in current if not reg[1] == handler]
        if remaining:
            self._registrations[event] = remaining
        else:
            del self._registrations[event]

    def _plan(self, event: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[partial[Any]]:
        ordered = sorted(self._registrations.get(event, ()), key=lambda reg: -reg[0])
        return [partial(handler, *args, **kwargs) for _priority, handler in ordered]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for step in self._plan(event, args, kwargs):
            outcome = step()
            if inspect.isawaitable(outcome):
                await outcome
        return None
