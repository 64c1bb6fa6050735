"""Bug: ``off`` has two copies, an in-place one used when no emit is running and a copy-on-write one used while an emit runs; the copy-on-write one stops at the first matching registration, so a handler registered twice keeps its second registration when it is removed during an emit.

Breaks: "`off(event, handler)` removes all of its registrations on that event" ... "After `off`, nothing of that handler is left on that event" ... with ``on("e", a)`` twice and a HIGH listener that calls ``off("e", a)``, the next emit still calls ``a`` once (the same ``off`` outside an emit removes both).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Channel:
    """The listeners of one event: levels keyed by priority, each a list of handlers."""

    __slots__ = ("levels",)

    def __init__(self) -> None:
        self.levels: dict[int, list[Callable[..., Any]]] = {}


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._emitting = 0  # emits running: lists they hold must not change under them

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        channel = self._channels.setdefault(event, _Channel())
        key = int(priority)
        if self._emitting:
            channel.levels = {**channel.levels, key: [*channel.levels.get(key, ()), handler]}
        else:
            channel.levels.setdefault(key, []).append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        channel = self._channels.get(event)
        if channel is None:
            return
        if self._emitting:
            # an emit holds the current dict: build a new one instead
            for key, handlers in channel.levels.items():
                for index, candidate in enumerate(handlers):
                    if candidate == handler:
                        levels = dict(channel.levels)
                        levels[key] = handlers[:index] + handlers[index + 1:]
                        channel.levels = levels
                        return
            return
        for key in list(channel.levels):
            channel.levels[key][:] = [h for h in channel.levels[key] if not h == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        channel = self._channels.get(event)
        if channel is None:
            return
        levels = channel.levels  # snapshot: changes made while we run replace this dict
        self._emitting += 1
        try:
            for key in sorted(levels, reverse=True):
                for handler in levels[key]:
                    result = handler(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
        finally:
            self._emitting -= 1
