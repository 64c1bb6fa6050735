"""
CORRECT (alternative design): registrations are small frozen dataclass records kept in a
per-event list sorted with `bisect.insort` on the key (-priority, order); `insort` with a
unique, growing order number puts a new record after every record of its priority.
emit copies the handlers into a tuple before calling anything and awaits through a tiny
positional-only helper, so no keyword of the emit can collide with its parameters.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, eq=False)
class _Registration:
    key: tuple[int, int]
    handler: Callable[..., Any] = field(compare=False)


async def _run(listener: Callable[..., Any], args: tuple, kwargs: dict, /) -> None:
    returned = listener(*args, **kwargs)
    if inspect.isawaitable(returned):
        await returned


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._table: dict[str, list[_Registration]] = {}
        self._count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._count += 1
        record = _Registration((-int(priority), self._count), handler)
        bisect.insort(self._table.setdefault(event, []), record, key=lambda r: r.key)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._table:
            self._table[event] = [r for r in self._table[event] if r.handler != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = tuple(r.handler for r in self._table.get(event, ()))
        for listener in snapshot:
            await _run(listener, args, kwargs)
