"""Bug: only an emit that starts while no other emit runs copies the listener list; an emit started while another is running (a nested one, or a concurrent one) walks the live list, so ``on``/``off`` made during it change that very emit.

Breaks: "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" and "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one" ... a listener of ``"outer"`` awaits ``emit("inner")``, whose HIGH listener calls ``on("inner", late, LOW)``: ``late`` already runs in that inner emit (a top-level ``emit("inner")`` would not run it).
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._order = itertools.count()
        self._keys: dict[str, list[tuple[int, int]]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._depth = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        keys = self._keys.setdefault(event, [])
        handlers = self._handlers.setdefault(event, [])
        key = (-int(priority), next(self._order))
        at = bisect.bisect_right(keys, key)
        keys.insert(at, key)
        handlers.insert(at, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        handlers = self._handlers.get(event)
        if not handlers:
            return
        keys = self._keys[event]
        for at in range(len(handlers) - 1, -1, -1):
            if handlers[at] == handler:
                del handlers[at]
                del keys[at]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        handlers = self._handlers.get(event, [])
        if self._depth == 0:
            handlers = list(handlers)  # the outermost emit protects the rest
        self._depth += 1
        try:
            index = 0
            while index < len(handlers):
                handler = handlers[index]
                index += 1
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._depth -= 1
