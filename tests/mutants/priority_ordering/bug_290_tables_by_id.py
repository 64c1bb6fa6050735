"""Exercise 1: priority_ordering. The listener tables live in one module-level registry keyed by id(emitter), created lazily, so the emitter itself keeps the stub's empty __init__ and the registry holds no reference to it.

BUG (planted): the page says "So are emitters: a new `PriorityEmitter` holds nothing of
another one's, even one created where an old one was (keep the state in the object, not in
the module)." This version files each emitter's table under `id(self)` (the student wanted
a registry that does not keep emitters alive, and a dict keyed by the emitter would), but an
id is only unique among live objects: once an emitter is gone, a new one created at the same
address gets the same id and finds the old emitter's listeners still registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_Row = tuple[int, int, Callable[..., Any]]

# id(emitter) -> event -> rows; ids, not emitters, so the registry keeps none alive
_REGISTRY: dict[int, dict[str, list[_Row]]] = {}
_next_number = 0


def _table(emitter: object) -> dict[str, list[_Row]]:
    return _REGISTRY.setdefault(id(emitter), {})


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        _table(self)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        global _next_number
        _next_number += 1
        _table(self).setdefault(event, []).append((int(priority), _next_number, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        table = _table(self)
        if event in table:
            table[event] = [row for row in table[event] if not row[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        rows = sorted(_table(self).get(event, ()), key=lambda row: (-row[0], row[1]))
        for _, _, handler in rows:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
