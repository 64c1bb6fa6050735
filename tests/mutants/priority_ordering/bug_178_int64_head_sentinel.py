"""Bug: each event is a doubly linked list between two sentinels whose priorities are the 64-bit limits, and insertion walks back from the tail until it meets a priority at least as big, so a priority above 2**63 - 1 walks off the head and on() crashes with AttributeError.

Breaks: "Any `int` is a priority too ... `10` runs before `HIGHEST`, `-5` after `LOWEST`, and `2**53 + 1` before `2**53`, however large (an `int`, not a `float`)." ... `on("e", h, 2**63)` raises AttributeError ('NoneType' object has no attribute 'priority') instead of registering `h` to run first; `2**63 - 1` and everything below still work.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_TOP = (1 << 63) - 1  # bigger than any priority: the head sentinel stops every walk
_BOTTOM = -(1 << 63)


class _Node:
    __slots__ = ("priority", "handler", "prev", "next")

    def __init__(self, priority: int, handler: Callable[..., Any] | None = None) -> None:
        self.priority = priority
        self.handler = handler
        self.prev: _Node | None = None
        self.next: _Node | None = None


class _Chain:
    """Listeners of one event, highest priority first, ties in registration order."""

    def __init__(self) -> None:
        self.head = _Node(_TOP)
        self.tail = _Node(_BOTTOM)
        self.head.next, self.tail.prev = self.tail, self.head

    def insert(self, priority: int, handler: Callable[..., Any]) -> None:
        node = self.tail
        while node.prev.priority < priority:  # the head sentinel ends the walk
            node = node.prev
        new = _Node(priority, handler)
        new.prev, new.next = node.prev, node
        node.prev.next = new
        node.prev = new

    def remove(self, handler: Callable[..., Any]) -> None:
        node = self.head.next
        while node is not self.tail:
            following = node.next
            if node.handler == handler:
                node.prev.next, node.next.prev = node.next, node.prev
            node = following

    def handlers(self) -> list[Callable[..., Any]]:
        found = []
        node = self.head.next
        while node is not self.tail:
            found.append(node.handler)
            node = node.next
        return found


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
        self._chains.setdefault(event, _Chain()).insert(int(priority), handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        chain = self._chains.get(event)
        if chain is not None:
            chain.remove(handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        chain = self._chains.get(event)
        if chain is None:
            return
        for handler in chain.handlers():
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
