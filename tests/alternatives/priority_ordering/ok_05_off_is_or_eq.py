"""OK variant (was amb_05_off_equality.py; the new text decided it). off
removes a registration when it ``is`` the handler or ``==`` it, which is exactly
rule 6 ("`off` compares handlers with `==`, not `is`"): ``is`` implies ``==`` for
every sane callable, so the extra ``is`` changes nothing. Style: ok_01's sorted
list of (priority, counter, handler).
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
            entries[:] = [e for e in entries if not (e[2] is handler or e[2] == handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for _, _, handler in sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1])):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
