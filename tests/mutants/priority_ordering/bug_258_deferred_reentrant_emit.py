"""BUG (rule 11, Emits inside a listener): "That inner emit ... runs to its end before the outer
emit goes on. If one of its listeners raises, the exception comes out of the inner
`await emitter.emit(...)`". While an emit of the same event runs, a new emit of that event
is queued and run after the current one finishes ("avoid re-entrancy"), so an inner emit
returns at once and its listeners run after the outer emit's remaining listeners (also the
second of two gathered emits runs after the first). Emits of other events are unaffected.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> [(priority, registration number, handler)], kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._registered = 0
        self._running: dict[str, list[tuple[tuple, dict]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registered += 1
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), self._registered, handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        # ==, not `is`: `obj.method` is a new bound-method object at every access,
        # and two of them are equal when they bind the same function to the same object
        entries = self._listeners.get(event, [])
        entries[:] = [entry for entry in entries if entry[2] != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        if event in self._running:
            self._running[event].append((args, kwargs))  # run it after the current emit
            return None
        queue = self._running[event] = [(args, kwargs)]
        try:
            while queue:
                args, kwargs = queue.pop(0)
                for _priority, _n, handler in list(self._listeners.get(event, [])):
                    result = handler(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
        finally:
            del self._running[event]
