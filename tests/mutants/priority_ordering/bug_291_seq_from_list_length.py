"""Exercise 1: priority_ordering. Tuples of (priority, position, handler) per event, sorted at emit.

BUG (planted): "After `off`, nothing of that handler is left on that event: `on` again is a new
registration, so it runs once, after the listeners of its priority registered before it" (and
rule 2: "listeners of the same priority run in the order they were registered"). The tidy-up
dropped the emitter's `itertools.count()` and uses `len(entries)` as the tie-break number
("the position in the list is the registration order anyway"). After `off` shortens the list,
a new registration can get a number smaller than an older listener's, and then runs before it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any

from day25 import EventPriority

_Entry = tuple[int, int, Callable[..., Any]]  # (priority, registration number, handler)


def _is_awaitable(value: Any) -> bool:
    """``inspect.isawaitable`` without inspect: ``__await__``, or a @types.coroutine generator."""
    if isinstance(value, Awaitable):
        return True
    return isinstance(value, Generator) and bool(value.gi_code.co_flags & 0x100)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, list[_Entry]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._events.setdefault(event, [])
        entries.append((int(priority), len(entries), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._events:
            self._events[event] = [e for e in self._events[event] if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._events.get(event, []), key=lambda e: (-e[0], e[1]))
        for _priority, _number, handler in ordered:
            result = handler(*args, **kwargs)
            if _is_awaitable(result):
                await result
