"""Bug: a handler that is neither a Python function nor a bound method is stored (and compared by off) as its `__call__` attribute, and `x.__call__ == y.__call__` holds only for the very same object, so off() misses equal-but-distinct callable objects and builtin methods such as `lst.append`.

Breaks: "The same holds for every handler, not only Python's bound methods: `lst.append` of one list, or an object with its own `__eq__`." ... after `on("e", lst.append)`, `off("e", lst.append)` removes nothing (a new `lst.append` is a new object whose `__call__` wrapper compares unequal), so the next `emit("e", 1)` still appends; the same for `off("e", Key(1))` after `on("e", Key(1))` where `Key` has its own `__eq__`.
"""

from __future__ import annotations

import inspect
from collections import defaultdict
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


def _target(handler: Callable[..., Any]) -> Callable[..., Any]:
    """What actually runs when ``handler`` is called (an object's ``__call__``)."""
    if inspect.isfunction(handler) or inspect.ismethod(handler):
        return handler
    return handler.__call__


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registry: defaultdict[str, dict[int, tuple[int, Callable[..., Any]]]] = defaultdict(dict)
        self._ticket = count(1)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registry[event][next(self._ticket)] = (int(priority), _target(handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._registry:
            return
        wanted = _target(handler)
        tickets = self._registry[event]
        for ticket in [t for t, (_, fn) in tickets.items() if fn == wanted]:
            del tickets[ticket]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        tickets = self._registry.get(event, {})
        order = sorted(tickets.items(), key=lambda item: (-item[1][0], item[0]))
        for _, (_, fn) in order:
            result = fn(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
