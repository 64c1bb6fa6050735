"""Bug: the whole emit loop sits in a try/except KeyError meant for unknown events, so a listener's KeyError is swallowed.

Breaks: "A listener that raises: its exception comes out of emit at once, and the listeners after it do not run in that emit" (rule 8).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass
class _Registration:
    priority: int
    order: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """Registrations as dataclasses, sorted at emit time."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[_Registration]] = {}
        self._counter = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._counter += 1
        self._listeners.setdefault(event, []).append(
            _Registration(int(priority), self._counter, handler)
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._listeners:
            self._listeners[event] = [
                r for r in self._listeners[event] if r.handler != handler
            ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        try:
            snapshot = sorted(
                self._listeners[event], key=lambda r: (-r.priority, r.order)
            )
            for reg in snapshot:
                result = reg.handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        except KeyError:
            # nobody listens to this event: nothing to do
            return None
        return None
