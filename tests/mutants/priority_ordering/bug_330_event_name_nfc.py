"""Exercise 1: priority_ordering. Event names are NFC-normalised, so two spellings are one event.

BUG (planted): "An event is its exact name: `"Save"`, `"save"` and `" save"` are three
events." on, off and emit key the listeners by unicodedata.normalize("NFC", event) so
that names that look the same match; "caf\\u00e9" (precomposed) and "cafe\\u0301" (e plus a
combining accent) become one event, and an emit of one runs the listeners of the other.
Shows with any two canonically-equivalent but different names.
"""

from __future__ import annotations

import inspect
import itertools
import unicodedata
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _key(event: str) -> str:
    """One key per event name, however its accents were typed."""
    return unicodedata.normalize("NFC", event)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, registration number, handler), kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(_key(event), [])
        entries.append((int(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        event = _key(event)
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = list(self._listeners.get(_key(event), ()))
        for _priority, _number, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
