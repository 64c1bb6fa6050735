"""Style: each event is an OrderedDict kept in run order at all times; a new registration is appended and every lower-priority entry is rotated behind it with move_to_end, so emit only copies the values.

Follows: "a bigger priority runs earlier" and "Any `int` is a priority too" (entries are ranked by `int(priority)`, so `2`, `MEDIUM`, `NORMAL`, the default and `True`/`1` all tie, any size or sign); "listeners of the same priority run in the order they were registered" (equal or higher entries stay in front of the newcomer, lower ones keep their order behind it); "`off(event, handler)` removes all of its registrations on that event ... compares handlers with `==`" (every entry whose handler `==` the given one is deleted; absent events or handlers do nothing, and a later `on` gets a fresh token at the back of its priority); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end ... It is awaited once" (one `await` of exactly that result); "each listener gets exactly the positional and keyword arguments given to `emit`" (`handler(*args, **kwargs)`); "an emit works on a **snapshot** ... taken at once" (a tuple built before the first await); "its exception comes out of `emit` at once" (nothing is caught); "`await emit(...)` returns `None`"; "a new `PriorityEmitter` holds nothing of another one's" (all state is on the instance).
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._runs: dict[str, OrderedDict[int, tuple[int, Callable[..., Any]]]] = {}
        self._tokens = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        rank = int(priority)
        run = self._runs.setdefault(event, OrderedDict())
        behind = [token for token, (other, _) in run.items() if other < rank]
        run[next(self._tokens)] = (rank, handler)
        for token in behind:
            run.move_to_end(token)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        run = self._runs.get(event)
        if run is None:
            return
        for token in [token for token, (_, fn) in run.items() if fn == handler]:
            del run[token]
        if not run:
            del self._runs[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        run = self._runs.get(event)
        snapshot = tuple(fn for _, fn in run.values()) if run else ()
        for fn in snapshot:
            outcome = fn(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
