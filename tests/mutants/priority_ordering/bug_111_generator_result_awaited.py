"""Bug: the "needs awaiting" test also accepts any generator (``inspect.isgenerator``, meant for ``@types.coroutine`` ones), so a listener that returns an ordinary generator has it awaited and emit raises ``TypeError``.

Breaks: "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts." ... A listener `def numbers(n): yield from range(n)` returns a plain generator, which is not awaitable and is just a value; `await emit("e", 3)` raises `TypeError: object generator can't be used in 'await' expression` and the listeners after it do not run.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _must_await(value: Any) -> bool:
    """Coroutines, Tasks/Futures, objects with ``__await__`` and generator-based coroutines."""
    return (
        inspect.iscoroutine(value)
        or asyncio.isfuture(value)
        or hasattr(value, "__await__")
        or inspect.isgenerator(value)  # @types.coroutine has no __await__
    )


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._rows: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._tick = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._rows.setdefault(event, []).append((-int(priority), next(self._tick), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._rows:
            self._rows[event] = [row for row in self._rows[event] if not row[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._rows.get(event, ()), key=lambda row: row[:2])
        for _, _, handler in snapshot:
            outcome = handler(*args, **kwargs)
            if _must_await(outcome):
                await outcome
