"""Bug: off leaves None tombstones in the handler list and emit skips empty slots with a truthiness test (`if handler`), so a listener object that is falsy (an empty list subclass with `__call__`, anything with `__len__` 0 or `__bool__` False) is never called.

Breaks: "`await emit(event, *args, **kwargs)` | calls every listener of `event` with `*args, **kwargs`" and "The same holds for every handler, not only Python's bound methods: `lst.append` of one list, or an object with its own `__eq__`." ... `class Log(list): __call__ = list.append`; `log = Log()`; `on("e", log)`; `await emit("e", 1)` leaves `log == []`: the empty Log is falsy, so emit treats it as a removed slot.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Slots:
    """Parallel lists for one event: handlers (None once removed) and priorities."""

    __slots__ = ("handlers", "priorities")

    def __init__(self) -> None:
        self.handlers: list[Callable[..., Any] | None] = []
        self.priorities: list[int] = []

    def compact(self) -> None:
        keep = [i for i, h in enumerate(self.handlers) if h is not None]
        self.handlers = [self.handlers[i] for i in keep]
        self.priorities = [self.priorities[i] for i in keep]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._events: dict[str, _Slots] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        slots = self._events.setdefault(event, _Slots())
        slots.handlers.append(handler)
        slots.priorities.append(int(priority))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        slots = self._events.get(event)
        if slots is None:
            return
        removed = 0
        for i, h in enumerate(slots.handlers):
            if h is not None and h == handler:
                slots.handlers[i] = None  # tombstone: indices stay aligned
                removed += 1
        if removed and slots.handlers.count(None) * 2 > len(slots.handlers):
            slots.compact()

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        slots = self._events.get(event)
        if slots is None:
            return
        handlers = list(slots.handlers)
        priorities = list(slots.priorities)
        # indices are in registration order; sorted() is stable, so ties keep it
        order = sorted((i for i, h in enumerate(handlers) if h), key=lambda i: -priorities[i])
        for i in order:
            result = handlers[i](*args, **kwargs)
            if inspect.isawaitable(result):
                await result
