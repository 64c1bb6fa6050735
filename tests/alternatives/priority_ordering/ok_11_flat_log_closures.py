"""Style: one flat registration log held in closures (no per-event structure). on appends a
record (event, priority number, sequence, handler); off rebuilds the log without the records
of that event whose handler == the given one (bound methods compare equal); emit filters the
log by event at its start (a fresh list: the snapshot of rule 7 and rule 11) and sorts it with
a stable sort on the negated priority, which keeps registration order for ties because the log
is in registration order. Awaitables returned are awaited one at a time (inspect.isawaitable);
exceptions pass through unchanged; emit returns None.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _registry() -> tuple[Callable[..., None], Callable[..., None], Callable[[str], list[Any]]]:
    log: list[tuple[str, int, Callable[..., Any]]] = []

    def record(event: str, priority: int, handler: Callable[..., Any]) -> None:
        log.append((event, priority, handler))

    def forget(event: str, handler: Callable[..., Any]) -> None:
        log[:] = [r for r in log if not (r[0] == event and r[2] == handler)]

    def plan(event: str) -> list[Any]:
        mine = [r for r in log if r[0] == event]
        mine.sort(key=lambda r: -r[1])  # stable: ties stay in registration order
        return [r[2] for r in mine]

    return record, forget, plan


class PriorityEmitter:
    """on / off / await emit over a flat, closure-held registration log."""

    def __init__(self) -> None:
        self._record, self._forget, self._plan = _registry()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._record(event, int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        self._forget(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in self._plan(event):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
