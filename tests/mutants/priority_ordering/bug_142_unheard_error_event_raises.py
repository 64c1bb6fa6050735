"""Bug: like Node's EventEmitter, emitting "error" when nobody listens to it raises (its first argument if that is an exception, else a RuntimeError) instead of doing nothing.

Breaks: "emitting an event nobody listens to does nothing. An event is its exact name" ... On a fresh emitter, `await emit("error", ValueError("x"))` raises that ValueError and `await emit("error")` raises RuntimeError, where both should just return None (and after on("error", h); off("error", h) it raises again).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from itertools import count
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._seq = count()
        # event -> list of (sort key, handler); sort key = (-priority, registration number)
        self._listeners: dict[str, list[tuple[tuple[int, int], Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        key = (-int(priority), next(self._seq))
        self._listeners.setdefault(event, []).append((key, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._listeners:
            self._listeners[event] = [
                entry for entry in self._listeners[event] if not entry[1] == handler
            ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        entries = sorted(self._listeners.get(event, []), key=lambda entry: entry[0])
        if not entries and event == "error":
            # an "error" nobody handles must not vanish silently
            if args and isinstance(args[0], BaseException):
                raise args[0]
            raise RuntimeError(f"Unhandled 'error' event: {args!r}")
        for _key, handler in entries:
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
