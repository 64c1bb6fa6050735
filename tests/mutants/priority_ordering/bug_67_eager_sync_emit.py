"""Bug: emit is a plain method that runs the listeners at call time (like day25.EventBus with sync listeners), so emitter.emit(...) without await already runs them and the snapshot is taken before the emit is awaited.

Breaks: "async emit(event, *args, **kwargs) -> None" and the notebook: "The forgotten await: emitter.emit(...) without await runs nothing."
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventPriority


def _make_store() -> tuple[Callable[..., Any], Callable[..., None], Callable[[str], list[Any]]]:
    listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
    counter = [0]

    def add(event: str, handler: Callable[..., Any], priority: int) -> Callable[..., Any]:
        counter[0] += 1
        bucket = listeners.setdefault(event, [])
        bucket.append((int(priority), counter[0], handler))
        bucket.sort(key=lambda t: (-t[0], t[1]))
        return handler

    def remove(event: str, handler: Callable[..., Any]) -> None:
        if event in listeners:
            listeners[event] = [t for t in listeners[event] if t[2] != handler]

    def snapshot(event: str) -> list[Any]:
        return [t[2] for t in listeners.get(event, ())]

    return add, remove, snapshot


class PriorityEmitter:
    """Closures hold the registry; emit runs sync listeners straight away."""

    def __init__(self) -> None:
        self._add, self._remove, self._snapshot = _make_store()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        return self._add(event, handler, priority)

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        self._remove(event, handler)

    def emit(self, event: str, *args: Any, **kwargs: Any) -> Awaitable[None]:
        handlers = self._snapshot(event)
        index = 0
        # fast path: run sync listeners now, switch to a coroutine at the first awaitable
        while index < len(handlers):
            result = handlers[index](*args, **kwargs)
            index += 1
            if inspect.isawaitable(result):
                return self._finish(result, handlers[index:], args, kwargs)
        return self._finish(None, [], args, kwargs)

    async def _finish(self, first: Any, rest: list[Any], args: tuple[Any, ...],
                      kwargs: dict[str, Any]) -> None:
        if first is not None:
            await first
        for handler in rest:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
