"""Style: a small dataclass channel per event keeps one append-only stream per priority level, and emit lazily k-way merges those streams with heapq.merge (materialised into a list before anything runs).

Follows: "a bigger priority runs earlier ... `10` runs before `HIGHEST`, `-5` after `LOWEST`, and `2**53 + 1` before `2**53`, however large" (streams are keyed by `int(priority)` and merged on `-level`, exact ints, so `2`, `MEDIUM`, `NORMAL` and the default share one stream); "listeners of the same priority run in the order they were registered" (each stream is in registration order and merged by a per-emitter sequence number, so a handler is never compared); "registering the same handler twice makes it run twice" and "`off(event, handler)` removes all of its registrations on that event ... with `==`" (every stream is filtered with `==`; unknown ones are ignored; `on` after `off` appends anew); "it is awaited to the end before the next listener starts ... It is awaited once" (`inspect.isawaitable` and one `await`); "calls `listener(1, 2, k=3)`" (`handler(*args, **kwargs)`); "the snapshot is taken at once, before the emit first waits for anything" (the merged list is built first); "its exception comes out of `emit` at once ... A cancellation comes out the same way" (no try/except); "returns `None`"; "An event is its exact name" (a plain dict lookup).
"""

from __future__ import annotations

import heapq
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass
class _Channel:
    streams: dict[int, list[tuple[int, Callable[..., Any]]]] = field(default_factory=dict)

    def add(self, level: int, seq: int, handler: Callable[..., Any]) -> None:
        self.streams.setdefault(level, []).append((seq, handler))

    def discard(self, handler: Callable[..., Any]) -> None:
        for level in list(self.streams):
            kept = [(seq, fn) for seq, fn in self.streams[level] if not fn == handler]
            if kept:
                self.streams[level] = kept
            else:
                del self.streams[level]

    def plan(self) -> list[Callable[..., Any]]:
        merged = heapq.merge(*(
            [(-level, seq, index) for index, (seq, _) in enumerate(stream)]
            for level, stream in self.streams.items()
        ))
        return [self.streams[-negated][index][1] for negated, _, index in merged]


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        self._channels.setdefault(event, _Channel()).add(int(priority), self._seq, handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        channel = self._channels.get(event)
        if channel is not None:
            channel.discard(handler)
            if not channel.streams:
                del self._channels[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        channel = self._channels.get(event)
        plan = channel.plan() if channel is not None else []
        for handler in plan:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
