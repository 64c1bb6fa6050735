"""Style: each event's registrations live in a hand-rolled binary search tree keyed by (-priority, registration number), read by an iterative in-order walk; off rebuilds a balanced tree from the survivors.

Follows: "a bigger priority runs earlier" and "listeners of the same priority run in the order they were registered" (the key is (-int(priority), n) with n from a counter, so `2`, `MEDIUM`, `NORMAL` and the default tie and bigger ints of any size come first); "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end before the next listener starts" and "It is awaited once" (one `await` of the result); "each listener gets exactly the positional and keyword arguments given to `emit`" (`handler(*args, **kwargs)`); "`off(event, handler)` removes all of its registrations on that event" / "`off` compares handlers with `==`" (survivors are those with `not node.handler == handler`; `on` again gets a new, larger number); "an emit works on a **snapshot** of the listeners taken when it starts" (the walk into a list happens before the first await); "its exception comes out of `emit` at once" (nothing catches it); "`await emit(...)` returns `None`"; "An event is its exact name" (a dict keyed by the string, per instance).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from itertools import count
from typing import Any

from day25 import EventPriority


class _Node:
    __slots__ = ("key", "handler", "left", "right")

    def __init__(self, key: tuple[int, int], handler: Callable[..., Any]) -> None:
        self.key = key
        self.handler = handler
        self.left: _Node | None = None
        self.right: _Node | None = None


def _insert(root: _Node | None, node: _Node) -> _Node:
    if root is None:
        return node
    here = root
    while True:
        if node.key < here.key:
            if here.left is None:
                here.left = node
                return root
            here = here.left
        else:
            if here.right is None:
                here.right = node
                return root
            here = here.right


def _in_order(root: _Node | None) -> Iterator[_Node]:
    stack: list[_Node] = []
    here = root
    while stack or here is not None:
        while here is not None:
            stack.append(here)
            here = here.left
        here = stack.pop()
        yield here
        here = here.right


def _balanced(nodes: list[_Node], lo: int, hi: int) -> _Node | None:
    if lo >= hi:
        return None
    mid = (lo + hi) // 2
    root = nodes[mid]
    root.left = _balanced(nodes, lo, mid)
    root.right = _balanced(nodes, mid + 1, hi)
    return root


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._trees: dict[str, _Node] = {}
        self._numbers = count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        node = _Node((-int(priority), next(self._numbers)), handler)
        self._trees[event] = _insert(self._trees.get(event), node)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        root = self._trees.get(event)
        if root is None:
            return
        survivors = [
            _Node(node.key, node.handler)
            for node in _in_order(root)
            if not node.handler == handler
        ]
        if survivors:
            self._trees[event] = _balanced(survivors, 0, len(survivors))  # type: ignore[assignment]
        else:
            del self._trees[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = [node.handler for node in _in_order(self._trees.get(event))]
        for handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
        return None
