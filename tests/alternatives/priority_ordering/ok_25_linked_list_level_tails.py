"""Style: each event is a doubly linked list of nodes with a sentinel head and a "last node of each priority" index, so ``on`` links a node in place (after the last one of its priority) and ``emit`` walks the chain into a tuple.

Follows: "a bigger priority runs earlier ... Any `int` is a priority too" (a new level is linked before the first node of a smaller priority, compared as plain ints, however large); "listeners of the same priority run in the order they were registered" (a node goes right after its priority's last node); "`off` ... removes all of its registrations on that event" / "compares handlers with `==`" (every node whose handler `== handler` is unlinked, and the level index is moved back or dropped, so "`on` again is a new registration ... after the listeners of its priority registered before it"); "Removing a handler or event that is not there does nothing"; "an emit works on a **snapshot**" (the chain is copied into a tuple before the first call); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited" once, one listener at a time; "exactly the positional and keyword arguments given to `emit`"; exceptions are not caught, so "its exception comes out of `emit` at once"; "`await emit(...)` returns `None`"; all state is in the instance, and inner emits just walk their own snapshot.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Link:
    __slots__ = ("handler", "priority", "prev", "next")

    def __init__(self, handler: Any, priority: int) -> None:
        self.handler = handler
        self.priority = priority
        self.prev: _Link | None = None
        self.next: _Link | None = None


class _Chain:
    """One event's listeners: highest priority first, ties in registration order."""

    def __init__(self) -> None:
        self.head = _Link(None, 0)  # sentinel, never a listener
        self.tails: dict[int, _Link] = {}  # priority -> last link of that priority

    def add(self, handler: Any, priority: int) -> None:
        link = _Link(handler, priority)
        after = self.tails.get(priority)
        if after is None:
            after = self.head
            while after.next is not None and after.next.priority > priority:
                after = after.next
        link.prev, link.next = after, after.next
        if after.next is not None:
            after.next.prev = link
        after.next = link
        self.tails[priority] = link

    def discard(self, handler: Any) -> None:
        link = self.head.next
        while link is not None:
            following = link.next
            if link.handler == handler:
                self._unlink(link)
            link = following

    def _unlink(self, link: _Link) -> None:
        before = link.prev
        assert before is not None
        before.next = link.next
        if link.next is not None:
            link.next.prev = before
        if self.tails.get(link.priority) is link:
            if before is not self.head and before.priority == link.priority:
                self.tails[link.priority] = before
            else:
                del self.tails[link.priority]
        link.prev = link.next = None

    def empty(self) -> bool:
        return self.head.next is None

    def snapshot(self) -> tuple[Any, ...]:
        handlers = []
        link = self.head.next
        while link is not None:
            handlers.append(link.handler)
            link = link.next
        return tuple(handlers)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._chains: dict[str, _Chain] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        chain = self._chains.get(event)
        if chain is None:
            chain = self._chains[event] = _Chain()
        chain.add(handler, int(priority))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        chain = self._chains.get(event)
        if chain is None:
            return
        chain.discard(handler)
        if chain.empty():
            del self._chains[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        chain = self._chains.get(event)
        if chain is None:
            return None
        for handler in chain.snapshot():
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
        return None
