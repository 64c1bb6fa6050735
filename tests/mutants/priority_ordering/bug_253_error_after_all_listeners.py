"""BUG (rule 8, A listener that raises): "its exception comes out of `emit` at once, and the
listeners after it do not run in that emit". The emit remembers the first exception, goes on
with the remaining listeners ("one bad listener should not starve the others") and raises
that same exception only at the end. Exception type and identity are preserved.
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
        first_error: Exception | None = None
        for _priority, _n, handler in list(self._listeners.get(event, [])):
            try:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                if first_error is None:
                    first_error = exc
        if first_error is not None:
            raise first_error
