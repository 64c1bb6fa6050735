"""BUG: the listener registry is a mutable CLASS attribute (the stub's __init__
just says ``pass``), so every PriorityEmitter shares it: a listener registered on
one emitter is called by another emitter's emit.

Violates rule 10: "emitting an event nobody listens to does nothing." (a fresh
emitter's emit runs another emitter's listeners); the example's
``emitter = PriorityEmitter()`` is a separate emitter.

(Re-checked under the re-specified text: still a bug; off changed from ``is``
to ``==`` so that this stays the only mistake.)
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    _listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
    _order = itertools.count()

    def __init__(self) -> None:
        pass

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
