"""Style: composition: one small `_Channel` object per event, kept in a `dict` subclass with `__missing__`; a channel keeps its registrations in insertion order and caches its call order as a tuple, dropped on every change.

Follows: "a bigger priority runs earlier ... Any `int` is a priority" and "listeners of the same priority run in the order they were registered" (the call order is `sorted` by `-int(priority)` alone: Python's sort is stable, so equal priorities stay in registration order; `2`, `MEDIUM`, `NORMAL` and the default are the same int); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts ... It is awaited once" (one `await` per listener that returned an awaitable); "each listener gets exactly the positional and keyword arguments given to `emit`"; "`off(event, handler)` removes all of its registrations on that event, and no other handler ... `off` compares handlers with `==`" (a filter on `==`; unknown events and handlers do nothing, and `on` again is a new registration at the back); "an emit works on a **snapshot** ... taken at once" (the emit takes the channel's cached tuple before its first `await`; changes build a new tuple later); "its exception comes out of `emit` at once" and "A cancellation comes out the same way" (nothing is caught); "`await emit(...)` returns `None`"; "emitting an event nobody listens to does nothing" and "a new `PriorityEmitter` holds nothing of another one's" (the channels live in the instance; emit only reads, `dict.get` does not call `__missing__`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Channel:
    """The registrations of one event, in registration order, and their call order."""

    __slots__ = ("_order", "registrations")

    def __init__(self) -> None:
        self.registrations: list[tuple[int, Callable[..., Any]]] = []
        self._order: tuple[Callable[..., Any], ...] | None = None

    def add(self, level: int, handler: Callable[..., Any]) -> None:
        self.registrations.append((level, handler))
        self._order = None

    def remove(self, handler: Callable[..., Any]) -> None:
        kept = [(level, fn) for level, fn in self.registrations if not fn == handler]
        if len(kept) != len(self.registrations):
            self.registrations = kept
            self._order = None

    def order(self) -> tuple[Callable[..., Any], ...]:
        if self._order is None:
            ranked = sorted(self.registrations, key=lambda reg: -reg[0])  # stable
            self._order = tuple(fn for _, fn in ranked)
        return self._order


class _Channels(dict[str, _Channel]):
    def __missing__(self, event: str) -> _Channel:
        channel = self[event] = _Channel()
        return channel


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._channels = _Channels()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._channels[event].add(int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        channel = self._channels.get(event)
        if channel is not None:
            channel.remove(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        channel = self._channels.get(event)
        if channel is None:
            return
        for handler in channel.order():
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
