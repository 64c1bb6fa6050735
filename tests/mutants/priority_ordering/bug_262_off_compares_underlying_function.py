"""Bug: to cope with "a new bound-method object at every access", `off` compares `getattr(h, "__func__", h) is ...`, i.e. the underlying function by identity, ignoring the bound object (and `==`).

Breaks: "The same object, not an equal one: `a.handle` and `b.handle` ... are two handlers" / "`off` compares handlers with `==`, not `is`" ... on("e", a.handle); on("e", b.handle); off("e", b.handle) also removes a.handle, so emit("e") runs nothing; and off("e", Key(1)) does not remove a registered equal Key(1) with its own `__eq__`."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        self._listeners.setdefault(event, []).append((int(priority), self._seq, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        target = getattr(handler, "__func__", handler)
        kept = [entry for entry in entries if getattr(entry[2], "__func__", entry[2]) is not target]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
