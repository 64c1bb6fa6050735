"""Bug: listeners sit in a doubly linked list with a "last node of each priority" pointer, and ``off`` unlinks nodes without updating that pointer, so after the last listener of a priority is removed, the next ``on`` at that priority is hooked onto the detached node and never runs.

Breaks: "After `off`, nothing of that handler is left on that event: `on` again is a new registration, so it runs once, after the listeners of its priority registered before it (its old place is gone)." ... `on("e", a)`, `on("e", b)`, `off("e", b)`, `on("e", c)`, `await emit("e", 1)` calls only `a(1)`: `c` was linked after the removed `b` and is unreachable (also `on("e", b)` again after `off("e", b)` never runs).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Node:
    __slots__ = ("handler", "priority", "prev", "next")

    def __init__(self, handler: Any, priority: int) -> None:
        self.handler = handler
        self.priority = priority
        self.prev: _Node | None = None
        self.next: _Node | None = None


class _Chain:
    """One event's listeners, highest priority first, ties in registration order."""

    def __init__(self) -> None:
        self.head = _Node(None, 0)  # sentinel
        self.last_of: dict[int, _Node] = {}  # priority -> its last node

    def add(self, handler: Any, priority: int) -> None:
        node = _Node(handler, priority)
        after = self.last_of.get(priority)
        if after is None:
            after = self.head
            while after.next is not None and after.next.priority > priority:
                after = after.next
        node.prev, node.next = after, after.next
        if after.next is not None:
            after.next.prev = node
        after.next = node
        self.last_of[priority] = node

    def remove(self, handler: Any) -> None:
        node = self.head.next
        while node is not None:
            following = node.next
            if node.handler == handler:
                node.prev.next = node.next
                if node.next is not None:
                    node.next.prev = node.prev
            node = following

    def handlers(self) -> list[Any]:
        out = []
        node = self.head.next
        while node is not None:
            out.append(node.handler)
            node = node.next
        return out


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
        self._chains.setdefault(event, _Chain()).add(handler, int(priority))
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
