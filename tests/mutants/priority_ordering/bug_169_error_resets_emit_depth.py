"""Bug: when a listener raises, emit "resets" the emitter by setting its running-emits counter to 0 instead of taking off only its own count, so an emit still running outside it (an outer emit whose listener caught the error, or a concurrent one) loses its protection and a later off() edits the list it walks.

Breaks: "If one of its listeners raises, the exception comes out of the inner `await emitter.emit(...)`, in the listener that called it." and "a listener removed meanwhile still runs in this emit" ... Listeners of "a": `guard` (HIGH: `try: await emit("b") except ValueError: pass`, then `off("a", victim)`) and `victim` (LOW); "b" has a listener raising ValueError: `await emit("a")` never calls `victim`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Registry:
    """Per-event lists of ``(priority, handler)`` kept in run order."""

    def __init__(self) -> None:
        self.lists: dict[str, list[tuple[int, Callable[..., Any]]]] = {}
        self.emitting = 0  # while > 0, lists are replaced, never edited

    def _target(self, event: str) -> list[tuple[int, Callable[..., Any]]]:
        current = self.lists.get(event, [])
        if self.emitting or event not in self.lists:
            current = self.lists[event] = list(current)
        return current

    def insert(self, event: str, priority: int, handler: Callable[..., Any]) -> None:
        target = self._target(event)
        pos = 0
        while pos < len(target) and target[pos][0] >= priority:
            pos += 1
        target.insert(pos, (priority, handler))

    def remove(self, event: str, handler: Callable[..., Any]) -> None:
        if event not in self.lists:
            return
        target = self._target(event)
        target[:] = [pair for pair in target if not pair[1] == handler]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registry = _Registry()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registry.insert(event, int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._registry.remove(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        registry = self._registry
        listeners = registry.lists.get(event, ())
        registry.emitting += 1
        try:
            for _priority, handler in listeners:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        except BaseException:
            registry.emitting = 0  # the emit is over: leave the emitter usable
            raise
        registry.emitting -= 1
        return None
