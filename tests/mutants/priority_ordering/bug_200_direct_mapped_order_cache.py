"""Bug: the run order of each event is cached in a fixed table of 64 slots chosen by the event name's hash, and a slot is trusted when its change counter matches the emitted event's, without checking that it was filled for that event, so with many events one event's emit can run another event's listeners.

Breaks: "**Events are independent**: emitting an event nobody listens to does nothing. An event is its exact name" ... Register one listener on each of 100 events "ev0" ... "ev99" and emit each one: at least two of them share a slot (64 slots), both have change counter 1, and emitting the second runs the first one's listener instead of its own.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_SLOTS = 64  # size of the run-order cache


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> {priority: [handler, ...]} (each list in registration order)
        self._levels: dict[str, dict[int, list[Callable[..., Any]]]] = {}
        # event -> how many times its listeners changed
        self._changes: dict[str, int] = {}
        # small direct-mapped cache: slot -> (change counter, run order)
        self._cache: list[tuple[int, tuple[Callable[..., Any], ...]] | None] = [None] * _SLOTS

    def _touch(self, event: str) -> None:
        self._changes[event] = self._changes.get(event, 0) + 1

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        levels = self._levels.setdefault(event, {})
        # copy on write: an emit in progress keeps the order it started with
        levels[int(priority)] = [*levels.get(int(priority), ()), handler]
        self._touch(event)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._levels.get(event)
        if not levels:
            return
        for level, handlers in list(levels.items()):
            kept = [h for h in handlers if not h == handler]
            if len(kept) == len(handlers):
                continue
            if kept:
                levels[level] = kept
            else:
                del levels[level]
        self._touch(event)

    def _order(self, event: str) -> tuple[Callable[..., Any], ...]:
        slot = hash(event) % _SLOTS
        stamp = self._changes.get(event, 0)
        cached = self._cache[slot]
        if cached is not None and cached[0] == stamp:
            return cached[1]
        levels = self._levels.get(event, {})
        order = tuple(h for level in sorted(levels, reverse=True) for h in levels[level])
        self._cache[slot] = (stamp, order)
        return order

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in self._order(event):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
