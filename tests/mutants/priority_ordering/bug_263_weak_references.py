"""Bug: handlers are kept through `weakref.ref` / `weakref.WeakMethod` (as the Nexios bus does) so the emitter "does not keep objects alive"; a handler nobody else references is collected and silently skipped.

Breaks: "`on(event, handler, ...)` registers `handler` for `event`" / "a snapshot of the listeners ... holding the registered handlers themselves" ... on("e", Counter().handle) or on("e", lambda: log.append(1)) or on("e", lst.append) with a temporary: emit("e") calls nothing."""

from __future__ import annotations

import inspect
import weakref
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
        # weak references, like the Nexios bus: the emitter must not keep objects alive
        ref = weakref.WeakMethod(handler) if inspect.ismethod(handler) else weakref.ref(handler)
        self._listeners.setdefault(event, []).append((int(priority), self._seq, ref))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not (entry[2]() == handler)]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _seq, ref in snapshot:
            handler = ref()
            if handler is None:  # its object is gone
                continue
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
