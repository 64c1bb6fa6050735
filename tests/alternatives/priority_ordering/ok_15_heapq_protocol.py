"""Correct, advanced-Python style (written 2026-11-30 for the review's false-positive count, checked by `day25 check`, 25/25 from the hidden suites before it was kept): priority_ordering with a Protocol-typed, generic registry, ordered with ``heapq``.

Each event keeps one bucket per priority (a ``collections.deque`` in registration
order); an emit takes a snapshot by heap-ordering every entry on
``(-priority, registration number)``.
"""

from __future__ import annotations

import heapq
import inspect
import operator
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, overload

from day25 import EventPriority


class Listener(Protocol):
    def __call__(self, *args: Any, **kwargs: Any) -> Any | Awaitable[Any]: ...


H = TypeVar("H", bound=Callable[..., Any])


class Entry(NamedTuple):
    priority: int
    order: int
    handler: Callable[..., Any]


class Registry(Generic[H]):
    """event -> priority -> deque of entries; a snapshot is a sorted tuple."""

    __slots__ = ("_buckets", "_next")

    def __init__(self) -> None:
        self._buckets: defaultdict[str, dict[int, deque[Entry]]] = defaultdict(dict)
        self._next = 0

    def add(self, event: str, handler: H, priority: int) -> None:
        self._next += 1
        bucket = self._buckets[event].setdefault(int(priority), deque())
        bucket.append(Entry(int(priority), self._next, handler))

    def remove(self, event: str, handler: H) -> None:
        buckets = self._buckets.get(event)
        if not buckets:
            return
        for priority in list(buckets):
            kept = deque(e for e in buckets[priority] if e.handler != handler)
            if kept:
                buckets[priority] = kept
            else:
                del buckets[priority]

    def snapshot(self, event: str) -> tuple[Entry, ...]:
        buckets = self._buckets.get(event, {})
        # heapq over (-priority, order): the same order as a full sort
        heap = [(-e.priority, e.order, e) for bucket in buckets.values() for e in bucket]
        heapq.heapify(heap)
        return tuple(heapq.heappop(heap)[2] for _ in range(len(heap)))

    def __len__(self) -> int:
        return sum(len(b) for buckets in self._buckets.values() for b in buckets.values())

    def __contains__(self, event: object) -> bool:
        return bool(self._buckets.get(event))  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[str]:
        return (event for event, buckets in self._buckets.items() if buckets)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    __slots__ = ("_registry",)
    _handler_of = operator.attrgetter("handler")

    def __init__(self) -> None:
        self._registry: Registry[Listener] = Registry()

    @overload
    def on(self, event: str, handler: H) -> H: ...
    @overload
    def on(self, event: str, handler: H, priority: int) -> H: ...

    def on(self, event: str, handler: Any, priority: int = EventPriority.MEDIUM) -> Any:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registry.add(event, handler, priority)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        self._registry.remove(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in map(self._handler_of, self._registry.snapshot(event)):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(events={sorted(self._registry)!r}, listeners={len(self._registry)})"
