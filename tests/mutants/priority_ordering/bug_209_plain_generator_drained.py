"""Bug: when a listener returns a plain generator (a listener written with ``yield``), emit runs it to its end with a for loop instead of leaving it alone as a value.

Breaks: "A plain generator (what a function with `yield` returns, without `@types.coroutine`) is not awaitable: it is a value too" (read as: not to be awaited, but still to be run) ... settled by "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited" and "what that gives back is a value": only awaitables are waited for. A listener def gen(x): seen.append(x); yield must leave seen empty after emit("e", 1); here seen becomes [1] (and a generator that never ends hangs the emit).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _registry() -> tuple[Callable[..., None], Callable[..., None], Callable[[str], tuple]]:
    """Three closures over one store: add, drop, plan."""
    store: dict[str, tuple[tuple[int, int, Callable[..., Any]], ...]] = {}
    serial = [0]

    def add(event: str, handler: Callable[..., Any], priority: int) -> None:
        serial[0] += 1
        store[event] = store.get(event, ()) + ((-int(priority), serial[0], handler),)

    def drop(event: str, handler: Callable[..., Any]) -> None:
        if event in store:
            store[event] = tuple(row for row in store[event] if not row[2] == handler)

    def plan(event: str) -> tuple[Callable[..., Any], ...]:
        return tuple(row[2] for row in sorted(store.get(event, ()), key=lambda r: r[:2]))

    return add, drop, plan


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._add, self._drop, self._plan = _registry()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._add(event, handler, priority)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._drop(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._plan(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
            elif inspect.isgenerator(result):
                # not awaitable, but it is still the listener's body: run it through
                for _ in result:
                    pass
