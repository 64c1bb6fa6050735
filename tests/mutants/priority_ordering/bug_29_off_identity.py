"""BUG: off compares handlers with ``is`` (the old hint's advice), so
``off("e", obj.handle)`` never removes what ``on("e", obj.handle)`` added: each
attribute access makes a new bound-method object. (Equal but distinct callables
are not removed either.)

Violates rule 6: "`off` compares handlers with `==`, not `is`: `obj.handle` is a
new bound-method object at every access [...] so `off("e", obj.handle)` removes
what `on("e", obj.handle)` added."
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: int = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] is not handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        ordered = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _, _, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
