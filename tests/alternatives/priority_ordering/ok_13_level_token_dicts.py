"""Correct, nested-dict style: event, then integer priority level, then an insertion-ordered dict from a unique token to the handler.

Why it is correct: levels are keyed by the int value of the priority, so 2, MEDIUM, NORMAL and the default share one level, and any int is a level; a plain dict keeps insertion order, so a level lists its handlers in registration order, and each registration has its own token, so registering twice runs twice. off walks every level of that event and drops every token whose handler is equal (==) to the one given (collecting tokens first, never deleting while iterating), and does nothing for unknown events or handlers; on after off gets a new token at the back of its level. emit first copies the plan (levels from biggest to smallest, handlers in order) into a list, so on/off during the emit only affect the next emit, then calls one listener at a time with exactly the arguments given, awaits any awaitable result (inspect.isawaitable) before going on, lets exceptions out unchanged, and returns None.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """event -> {level: {token: handler}}."""

    def __init__(self) -> None:
        self._events: dict[Any, dict[int, dict[int, Callable[..., Any]]]] = {}
        self._tokens = itertools.count(1)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        levels = self._events.setdefault(event, {})
        levels.setdefault(int(priority), {})[next(self._tokens)] = handler
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        levels = self._events.get(event)
        if not levels:
            return
        for level in list(levels):
            slots = levels[level]
            doomed = [token for token, h in slots.items() if h == handler]
            for token in doomed:
                del slots[token]
            if not slots:
                del levels[level]
        if not levels:
            del self._events[event]

    def _plan(self, event: str) -> list[Callable[..., Any]]:
        levels = self._events.get(event, {})
        return [
            handler
            for level in sorted(levels, reverse=True)
            for handler in levels[level].values()
        ]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        for handler in self._plan(event):
            outcome = handler(*args, **kwargs)
            if inspect.isawaitable(outcome):
                await outcome
        return None
