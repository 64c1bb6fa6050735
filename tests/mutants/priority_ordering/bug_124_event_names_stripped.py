"""Bug: event names are "tidied" with `str.strip()` in on, off and emit, so names that differ only by leading or trailing whitespace are treated as one event.

Breaks: "An event is its exact name: `"Save"`, `"save"` and `" save"` are three events." ... `on("save", store)` then `await emit(" save", 1)` calls `store(1)` although nobody listens to `" save"`; and `off("save ", store)` removes the listener of `"save"`.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Channel:
    """The listeners of one event, kept sorted by (-priority, registration)."""

    def __init__(self) -> None:
        self.keys: list[tuple[int, int]] = []
        self.handlers: list[Callable[..., Any]] = []

    def add(self, key: tuple[int, int], handler: Callable[..., Any]) -> None:
        i = bisect.bisect_right(self.keys, key)
        self.keys = self.keys[:i] + [key] + self.keys[i:]
        self.handlers = self.handlers[:i] + [handler] + self.handlers[i:]

    def remove(self, handler: Callable[..., Any]) -> None:
        keep = [i for i, h in enumerate(self.handlers) if not h == handler]
        self.keys = [self.keys[i] for i in keep]
        self.handlers = [self.handlers[i] for i in keep]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._ticket = itertools.count()

    @staticmethod
    def _name(event: str) -> str:
        return event.strip()  # " save" and "save" are the same event name

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        channel = self._channels.setdefault(self._name(event), _Channel())
        channel.add((-int(priority), next(self._ticket)), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        channel = self._channels.get(self._name(event))
        if channel is not None:
            channel.remove(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        channel = self._channels.get(self._name(event))
        if channel is None:
            return
        for handler in channel.handlers:  # add/remove replace the list: a snapshot
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
