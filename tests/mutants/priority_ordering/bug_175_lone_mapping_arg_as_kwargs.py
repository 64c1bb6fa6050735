"""Bug: when emit gets exactly one positional argument and it is a mapping (and no keywords), the listener is called with that mapping spread as keyword arguments.

Breaks: "each listener gets exactly the positional and keyword arguments given to `emit`" and the example "`await emitter.emit("save", {"id": 1})      # validate, store, audit`" ... `emit("save", {"id": 1})` calls `validate(id=1)` instead of `validate({"id": 1})`, so a one-parameter listener raises TypeError (and a `**kw` listener gets the wrong shape); with a second argument or any keyword it is right.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> priority -> handlers in registration order
        self._table: dict[str, dict[int, list[Callable[..., Any]]]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._table.setdefault(event, {})
        levels.setdefault(int(priority), []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._table.get(event)
        if not levels:
            return
        for level in list(levels):
            remaining = [h for h in levels[level] if not h == handler]
            if remaining:
                levels[level] = remaining
            else:
                del levels[level]
        if not levels:
            del self._table[event]

    @staticmethod
    def _split(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """A lone mapping payload is the keyword form of the event's data."""
        if len(args) == 1 and not kwargs and isinstance(args[0], Mapping):
            return (), dict(args[0])
        return args, kwargs

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        levels = self._table.get(event, {})
        snapshot = [h for level in sorted(levels, reverse=True) for h in levels[level]]
        call_args, call_kwargs = self._split(args, kwargs)
        for handler in snapshot:
            result = handler(*call_args, **call_kwargs)
            if inspect.isawaitable(result):
                await result
