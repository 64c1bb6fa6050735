"""Style: each event maps registration tokens to ``(priority, handler)`` in a dict, and an emit ranks a frozen copy of it with ``heapq.nsmallest`` on ``(-priority, token)`` keys.

Follows: "`on(event, handler, priority=EventPriority.MEDIUM) -> handler`" (a fresh token from one counter per emitter, stored with ``int(priority)``: ``2``, ``MEDIUM``, ``NORMAL`` and the default tie, any int works, however large); "a bigger priority runs earlier" and "ties ... in the order they were registered" (``nsmallest`` is ordered by ``(-priority, token)`` and tokens only grow); "registering the same handler twice makes it run twice" (two tokens); "`off(event, handler)` removes all of its registrations on that event, and no other handler" / "compares handlers with `==`" (every token whose handler ``== handler`` goes; missing events or handlers do nothing; a later ``on`` gets a new, larger token); "an emit works on a **snapshot** ... taken when it starts" (``dict(...)`` copy and the handler list are made before the first ``await``); "it is awaited to the end before the next listener starts" ... "`inspect.isawaitable`" ... "awaited once"; "its exception comes out of `emit` at once" (nothing is caught); "exactly the positional and keyword arguments given to `emit`"; "returns `None`"; "keep the state in the object, not in the module".
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._tokens = count(1)
        self._table: dict[str, dict[int, tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._table.setdefault(event, {})[next(self._tokens)] = (int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._table.get(event)
        if not rows:
            return
        for token in [t for t, (_p, h) in rows.items() if h == handler]:
            del rows[token]
        if not rows:
            del self._table[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = dict(self._table.get(event, {}))
        ranked = heapq.nsmallest(len(rows), rows.items(), key=lambda row: (-row[1][0], row[0]))
        plan = [handler for _token, (_priority, handler) in ranked]
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
