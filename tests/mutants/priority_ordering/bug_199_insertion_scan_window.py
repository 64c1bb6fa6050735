"""Bug: `on` looks for the insertion point by scanning back over at most the last 16 listeners of the event, so a listener with a higher priority than 17 or more already registered ones is put in the middle instead of in front of them.

Breaks: "a bigger priority runs earlier: `HIGHEST`, `HIGH`, `MEDIUM`, `LOW`, `LOWEST`." ... Register 20 `LOW` listeners on "e", then one `HIGH` listener: `emit("e")` runs 4 `LOW` listeners before the `HIGH` one.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

# Most registrations land at (or near) the back of the run order, so walking
# back from the end is cheap; a short window keeps `on` O(1) in practice.
_SCAN_WINDOW = 16


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> rows (priority, handler) already in run order
        self._rows: dict[str, list[tuple[int, Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        rows = self._rows.setdefault(event, [])
        pos = len(rows)
        stop = max(0, len(rows) - _SCAN_WINDOW)
        # step back over every row that runs after us (strictly lower priority);
        # equal priorities stay in front: ties keep registration order
        while pos > stop and rows[pos - 1][0] < level:
            pos -= 1
        rows.insert(pos, (level, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        rows = self._rows.get(event)
        if rows:
            rows[:] = [row for row in rows if not row[1] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for _, handler in tuple(self._rows.get(event, ())):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
