"""Bug: a listener written as ``async def`` with ``yield`` (an async generator function) is run to its end with ``async for`` instead of its return value being left alone as a value.

Breaks: "So an `async def`, ... are all awaited, however long they take" (read as: every `async def` listener runs to its end) ... settled by the rule it illustrates, "If what a listener *returns* is awaitable (`inspect.isawaitable`), it is awaited to the end", and "A plain generator ... is not awaitable: it is a value too": an async generator object is not awaitable either. With async def agen(x): seen.append(x); yield on "e", emit("e", 1) must leave seen empty; here seen becomes [1], and an endless async generator never lets the emit finish.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Level:
    __slots__ = ("priority", "handlers")

    def __init__(self, priority: int, handlers: tuple[Callable[..., Any], ...]) -> None:
        self.priority = priority
        self.handlers = handlers


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> levels, highest priority first; a level's handlers in registration order
        self._events: dict[str, list[_Level]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        value = int(priority)
        levels = self._events.setdefault(event, [])
        at = 0
        while at < len(levels) and levels[at].priority > value:
            at += 1
        if at < len(levels) and levels[at].priority == value:
            levels[at] = _Level(value, levels[at].handlers + (handler,))
        else:
            levels.insert(at, _Level(value, (handler,)))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        levels = self._events.get(event)
        if not levels:
            return
        rebuilt = []
        for level in levels:
            kept = tuple(h for h in level.handlers if not h == handler)
            if kept:
                rebuilt.append(_Level(level.priority, kept))
        self._events[event] = rebuilt

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        calls = [h for level in self._events.get(event, []) for h in level.handlers]
        for handler in calls:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
            elif inspect.isasyncgen(result):
                # an async def listener that yields: run it to its end too
                async for _ in result:
                    pass
