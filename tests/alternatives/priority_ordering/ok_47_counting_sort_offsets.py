"""Style: registrations stay in one list per event in registration order, and each emit places them with a stable counting sort (a Counter of priorities turned into start offsets, highest priority first).

Follows: "a bigger priority runs earlier" (offsets are handed out over the priorities sorted from highest to lowest, any int, `int(priority)` so `2`, `MEDIUM` and `NORMAL` are one key); "The default priority is `MEDIUM`" (the default argument); "listeners of the same priority run in the order they were registered" (the list is walked in registration order and each one takes the next offset of its level); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once" (one `await` of the result); "each listener gets exactly the positional and keyword arguments given to `emit`" (`handler(*args, **kwargs)`); "`off(event, handler)` removes all of its registrations on that event" and "`off` compares handlers with `==`, not `is`" (a list comprehension with `==`; unknown events and handlers do nothing; `on` again appends at the back); "an emit works on a **snapshot** of the listeners taken when it starts" (the placed list is built before the first `await`); "its exception comes out of `emit` at once" (no try/except); "`await emit(...)` returns `None`"; "keep the state in the object, not in the module" (all state in `__init__`).
"""

from __future__ import annotations

import inspect
from collections import Counter
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _placed(registrations: list[tuple[int, Callable[..., Any]]]) -> list[Callable[..., Any]]:
    """Stable counting sort: highest priority first, registration order inside a level."""
    sizes = Counter(priority for priority, _ in registrations)
    next_slot: dict[int, int] = {}
    start = 0
    for priority in sorted(sizes, reverse=True):
        next_slot[priority] = start
        start += sizes[priority]
    placed: list[Any] = [None] * len(registrations)
    for priority, handler in registrations:
        placed[next_slot[priority]] = handler
        next_slot[priority] += 1
    return placed


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(priority, handler), ...] in registration order
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
        registrations = self._registrations.get(event)
        if registrations is None:
            return
        registrations[:] = [r for r in registrations if not r[1] == handler]
        if not registrations:
            del self._registrations[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # the snapshot: a new list, built before anything is awaited
        listeners = _placed(self._registrations.get(event, []))
        for handler in listeners:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
