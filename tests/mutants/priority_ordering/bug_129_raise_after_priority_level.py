"""Bug: `emit` runs each priority level with the lesson's collect-and-go-on loop and raises the first error only once that whole level has run, so same-priority listeners after a raising one still run.

Breaks: "**A listener that raises**: its exception comes out of `emit` at once, and the listeners after it do not run in that emit (like a plain `for` loop)." ... With `on("e", boom)` (raises ValueError) then `on("e", after)`, both MEDIUM, `await emit("e", 1)` still calls `after(1)` before the ValueError comes out (only lower levels are skipped).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from day25 import EventPriority


async def _notify_all(
    listeners: Iterable[Callable[..., Any]], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[Exception]:
    """Lesson 8's loop with emit's arguments: call each one in order, await what needs it."""
    errors: list[Exception] = []
    for listener in listeners:
        try:
            result = listener(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:
            errors.append(exc)
    return errors


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority: [handlers in registration order]}
        self._levels: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._levels.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._levels.get(event)
        if not levels:
            return
        for level, handlers in list(levels.items()):
            kept = [h for h in handlers if not h == handler]
            if kept:
                levels[level] = kept
            else:
                del levels[level]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._levels.get(event, {})
        snapshot = [
            list(levels[level]) for level in sorted(levels, reverse=True)
        ]  # taken before anything runs
        for handlers in snapshot:
            errors = await _notify_all(handlers, args, kwargs)
            if errors:
                raise errors[0]  # its own exception; lower priorities do not run
