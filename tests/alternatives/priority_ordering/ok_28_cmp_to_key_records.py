"""Style: registrations are frozen dataclass records in one flat list for all events, filtered by event and ordered at each emit with an explicit comparator (`functools.cmp_to_key`).

Follows: "a bigger priority runs earlier" (the comparator puts the bigger `int(priority)` first, exact for any int, so `2`, `MEDIUM`, `NORMAL` and the default tie) and "listeners of the same priority run in the order they were registered" (then the smaller registration number from a per-emitter `itertools.count`, so `on` again after `off` runs after the older ones); "registering the same handler twice makes it run twice" (two records); "`off(event, handler)` removes all of its registrations on that event, and no other handler" and "`off` compares handlers with `==`, not `is`" (records of that exact event whose handler `== handler` are dropped; nothing else, no error); "an emit works on a **snapshot** of the listeners taken when it starts" (`sorted` builds a new list before the first call; `on`/`off` rebind the list); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once"; "each listener gets exactly the positional and keyword arguments given to `emit`"; "its exception comes out of `emit` at once" (nothing catches it); "`await emit(...)` returns `None`"; "An event is its exact name" (compared with `==`, untouched) and "keep the state in the object, not in the module".
"""

from __future__ import annotations

import functools
import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, eq=False)
class Registration:
    event: str
    priority: int
    number: int
    handler: Callable[..., Any]


def _runs_first(a: Registration, b: Registration) -> int:
    """Negative when ``a`` runs before ``b``."""
    if a.priority != b.priority:
        return -1 if a.priority > b.priority else 1
    return -1 if a.number < b.number else (1 if a.number > b.number else 0)


_ORDER = functools.cmp_to_key(_runs_first)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._records: list[Registration] = []
        self._numbers = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        record = Registration(event, int(priority), next(self._numbers), handler)
        self._records = [*self._records, record]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._records = [
            r for r in self._records if not (r.event == event and r.handler == handler)
        ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        plan = sorted((r for r in self._records if r.event == event), key=_ORDER)
        for record in plan:
            outcome = record.handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
