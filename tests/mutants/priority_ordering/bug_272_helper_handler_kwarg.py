"""Exercise 1: priority_ordering. Priority emitter with a dispatch helper.

BUG (planted): rule 4 says "`emit("e", handler="h")` calls `listener(handler="h")`
(so a helper that passes the call on takes no parameter of its own by such a
name)." This refactor dispatches through ``_invoke(self, handler, *args, **kwargs)``
(a tidy helper an assistant extracts), so ``emit("e", handler="h")`` raises
"got multiple values for argument 'handler'" before any listener runs.
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
        # event -> [(sort key, handler)], kept sorted by key = (-priority, registration no.)
        self._table: dict[str, list[tuple[tuple[int, int], Callable[..., Any]]]] = {}
        self._registration_no = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        rows = self._table.setdefault(event, [])
        rows.append(((-int(priority), next(self._registration_no)), handler))
        rows.sort(key=lambda row: row[0])
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._table.get(event)
        if rows is not None:
            rows[:] = [row for row in rows if not row[1] == handler]

    async def _invoke(self, handler: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Call one listener and wait for it if it returned something awaitable."""
        result = handler(*args, **kwargs)
        if inspect.isawaitable(result):
            await result

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _, handler in list(self._table.get(event, [])):
            await self._invoke(handler, *args, **kwargs)
