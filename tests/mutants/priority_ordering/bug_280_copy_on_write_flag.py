"""Exercise 1: priority_ordering. Copy-on-write: ``emit`` walks the live sorted list without copying it; ``on``/``off`` edit it in place when no emit runs and build a new list while one does.

BUG (planted): "A listener that calls `on` or `off` while the emit runs changes the *next*
emit, not this one (a listener removed meanwhile still runs in this emit; one added
meanwhile does not)." (rule 11: an inner emit "runs to its end before the outer emit goes
on"). "An emit is running" is one boolean on the emitter, set at the start of ``emit``
and cleared in its ``finally``: an emit inside a listener clears it when *it* ends, while
the outer emit is still walking its list, so an ``on``/``off`` made after the inner
emit edits the outer emit's list in place (a removed listener is skipped, an added
one shifts or joins the walk). A student writes it because a flag is enough for one emit
at a time, with or without listeners that change the table.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

Handler = Callable[..., Any]
Entry = tuple[int, int, Handler]


def _key(entry: Entry) -> tuple[int, int]:
    return (-entry[0], entry[1])


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Entry]] = {}
        self._sequence = itertools.count()
        self._emitting = False  # an emit is walking one of the lists: do not edit in place

    def on(
        self,
        event: str,
        handler: Handler,
        priority: int = EventPriority.MEDIUM,
    ) -> Handler:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entry = (int(priority), next(self._sequence), handler)
        current = self._listeners.setdefault(event, [])
        if self._emitting:
            self._listeners[event] = sorted([*current, entry], key=_key)  # copy on write
        else:
            bisect.insort(current, entry, key=_key)
        return handler

    def off(self, event: str, handler: Handler) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        current = self._listeners.get(event)
        if current is None:
            return
        kept = [entry for entry in current if not entry[2] == handler]
        if self._emitting:
            self._listeners[event] = kept  # copy on write
        else:
            current[:] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        listeners = self._listeners.get(event, [])  # no copy: on/off copy while we run
        self._emitting = True
        try:
            for _priority, _sequence, handler in listeners:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._emitting = False
