"""Style: one small channel object per event, driven by operators (`channels[event] += (priority, handler)`, `channels[event] -= handler`, iterate for a snapshot), kept in a dict subclass whose `__missing__` opens a channel on first `on`.

Follows: "registers `handler` for `event` and returns it unchanged" (`on` returns `handler`); "a bigger priority runs earlier" / "Any `int` is a priority too" / "`2`, `EventPriority.MEDIUM`, `EventPriority.NORMAL` and the default are one priority" (entries sorted by `-int(priority)`); "listeners of the same priority run in the order they were registered" (each registration gets the next token of an `itertools.count`, the second sort key); "registering the same handler twice makes it run twice" and "`on` again is a new registration" (every `+=` adds a new token); "`off(event, handler)` removes all of its registrations on that event, and no other handler" / "Removing a handler or event that is not there does nothing" / "`off` compares handlers with `==`, not `is`" (`-=` drops every token whose handler `==` the given one; unknown events are skipped, empty channels deleted); "an emit works on a **snapshot** of the listeners taken when it starts" (iterating a channel builds a tuple at once, before anything is awaited); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once"; "each listener gets exactly the positional and keyword arguments given to `emit`"; "its exception comes out of `emit` at once" (nothing caught); "`await emit(...)` returns `None`"; "emitting an event nobody listens to does nothing" (`emit` uses `.get`, so it opens no channel) and "keep the state in the object" (the channels dict is created in `__init__`).
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from day25 import EventPriority


class _Channel:
    """The listeners of one event."""

    __slots__ = ("_entries", "_tokens")

    def __init__(self, tokens: Iterator[int]) -> None:
        self._entries: dict[int, tuple[int, Callable[..., Any]]] = {}
        self._tokens = tokens

    def __iadd__(self, registration: tuple[int, Callable[..., Any]]) -> _Channel:
        self._entries[next(self._tokens)] = registration
        return self

    def __isub__(self, handler: Callable[..., Any]) -> _Channel:
        for token in [t for t, (_, h) in self._entries.items() if h == handler]:
            del self._entries[token]
        return self

    def __bool__(self) -> bool:
        return bool(self._entries)

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        ranked = sorted(self._entries.items(), key=lambda item: (-item[1][0], item[0]))
        return iter(tuple(handler for _, (_, handler) in ranked))


class _Channels(dict):
    def __init__(self) -> None:
        super().__init__()
        self._tokens = itertools.count()

    def __missing__(self, event: str) -> _Channel:
        channel = self[event] = _Channel(self._tokens)
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
        self._channels[event] += (int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._channels:
            return
        self._channels[event] -= handler
        if not self._channels[event]:
            del self._channels[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        channel = self._channels.get(event)
        if not channel:
            return None
        for handler in channel:  # a tuple taken now: on/off meanwhile count from the next emit
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
