"""BUG: modelled on the lesson's ``emit(event, data)``: every listener gets exactly
ONE positional payload, ``args[0]`` (or None when emit got no positional
argument); extra positional arguments are dropped. Keyword arguments are passed.

Violates rule 4: "**Arguments**: each listener gets exactly the positional and
keyword arguments given to `emit`." (emit("e") calls listener(None);
emit("e", 1, 2) calls listener(1)).

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

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._order = itertools.count()

    def on(self, event: str, handler: Callable[..., Any],
           priority: EventPriority = EventPriority.MEDIUM) -> Callable[..., Any]:
        self._listeners.setdefault(event, []).append((int(priority), next(self._order), handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if entries:
            entries[:] = [e for e in entries if e[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        payload = args[0] if args else None
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            result = handler(payload, **kwargs)
            if inspect.isawaitable(result):
                await result
