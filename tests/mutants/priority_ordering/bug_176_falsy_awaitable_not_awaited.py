"""Bug: emit only awaits a listener's result when that result is truthy, so an awaitable object that is falsy (its class defines __bool__ or __len__) is never awaited.

Breaks: "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts. So ... one that returns an object of a class with `__await__` ... are all awaited" ... a listener returning an instance of `class Job: __await__ = ...; __len__ = lambda self: 0` is skipped: its work never runs (or runs after the next listener), and the next listener starts at once.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(order=True, frozen=True)
class _Entry:
    rank: int
    seq: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[_Entry, ...]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        entry = _Entry(-int(priority), self._seq, handler)
        self._entries[event] = tuple(sorted((*self._entries.get(event, ()), entry)))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._entries:
            kept = tuple(e for e in self._entries[event] if not e.handler == handler)
            if kept:
                self._entries[event] = kept
            else:
                del self._entries[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for entry in self._entries.get(event, ()):
            outcome = entry.handler(*args, **kwargs)
            if outcome and inspect.isawaitable(outcome):  # most listeners return None
                await outcome
