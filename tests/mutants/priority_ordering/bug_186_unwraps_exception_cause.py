"""Bug: before letting a listener's exception out, emit "unwraps" it by following `__cause__`, so a listener that raises `X from Y` makes emit raise Y instead of X.

Breaks: "It is the listener's own exception, not another one wrapping it: a listener's `ValueError` comes out of `emit` as that `ValueError`, so the caller's `except ValueError` works." ... A listener that does `raise LookupError("no user") from ConnectionError("db down")`: `await emit("e")` raises the ConnectionError, so the caller's `except LookupError` misses it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _unwrapped(error: BaseException) -> BaseException:
    """The error at the bottom of a ``raise ... from ...`` chain."""
    while error.__cause__ is not None:
        error = error.__cause__
    return error


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # flat list of [event, priority, number, handler]
        self._records: list[tuple[str, int, int, Callable[..., Any]]] = []
        self._count = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._count += 1
        self._records = [*self._records, (event, int(priority), self._count, handler)]
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._records = [r for r in self._records if not (r[0] == event and r[3] == handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        mine = [r for r in self._records if r[0] == event]
        mine.sort(key=lambda r: (-r[1], r[2]))
        for _, _, _, handler in mine:
            try:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except BaseException as error:
                # let the listener's own error out, not a wrapper around it
                raise _unwrapped(error)
