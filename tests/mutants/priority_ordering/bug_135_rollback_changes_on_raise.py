"""Bug: when a listener raises, `emit` "rolls back" the event's listeners to what they were when it started, so `on`/`off` calls that listeners made earlier in that failed emit are lost.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one" ... with `subscriber` (HIGH) calling `on("e", late, HIGHEST)` and `boom` (MEDIUM) raising, the first `emit("e")` raises as it should, but after `off("e", boom)` the next `emit("e")` runs only `subscriber`, not `late` then `subscriber`.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Entry = tuple[int, int, Callable[..., Any]]  # (-priority, seq, handler): sorts into call order


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> sorted tuple of entries; replaced (never changed) by on/off,
        # so an emit that holds the old tuple is not disturbed
        self._listeners: dict[str, tuple[Entry, ...]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry = (-int(priority), next(self._seq), handler)
        current = self._listeners.get(event, ())
        self._listeners[event] = tuple(sorted(current + (entry,), key=lambda e: (e[0], e[1])))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._listeners.get(event)
        if not current:
            return
        kept = tuple(entry for entry in current if not entry[2] == handler)
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    def _restore(self, event: str, listeners: tuple[Entry, ...]) -> None:
        if listeners:
            self._listeners[event] = listeners
        else:
            self._listeners.pop(event, None)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = self._listeners.get(event, ())
        try:
            for _, _, handler in snapshot:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        except BaseException:
            # a failed emit should leave the emitter as it found it
            self._restore(event, snapshot)
            raise
