"""Style: copy-on-write tuples of order=True dataclass registrations, inserted with bisect.insort.

Why correct: each registration's sort key is (negative int priority, instance-wide sequence number), so a
bigger priority runs first, any int works, 2 / MEDIUM / NORMAL tie, and ties keep registration order; a
re-registration gets a fresh number (back of its priority). on and off replace the event's tuple instead
of mutating it, so the tuple an emit grabbed at its start is an untouched snapshot (inner emits grab their
own). off filters with == (bound methods match, wrapped handlers do not) and ignores unknown events. emit
calls one listener at a time with exactly its arguments (event is positional-only, so no keyword name
collides), awaits an awaitable result once, lets any exception through unchanged, keeps no emit state
(so the emitter stays usable), and returns None. All state lives in the instance.
"""

from __future__ import annotations

import bisect
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(frozen=True, order=True)
class _Registration:
    rank: int
    seq: int
    handler: Callable[..., Any] = field(compare=False)


class PriorityEmitter:
    """on / off / await emit with integer priorities, ties in registration order."""

    def __init__(self) -> None:
        self._by_event: dict[Any, tuple[_Registration, ...]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        self._seq += 1
        registration = _Registration(-int(priority), self._seq, handler)
        entries = list(self._by_event.get(event, ()))
        bisect.insort(entries, registration)
        self._by_event[event] = tuple(entries)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._by_event.get(event)
        if entries is None:
            return
        kept = tuple(r for r in entries if not (r.handler == handler))
        if kept:
            self._by_event[event] = kept
        else:
            del self._by_event[event]

    async def emit(self, event: str, /, *args: Any, **kwargs: Any) -> None:
        snapshot = self._by_event.get(event, ())
        for registration in snapshot:
            result = registration.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
