"""Bug: the "this event is being emitted, copy before editing" mark lives in a ContextVar (in this kept copy: a dict keyed by the running asyncio task, as the review flags `contextvars`), so on()/off() called from another task while an emit waits do not see it and edit in place the very list that emit is walking.

Breaks: "So does other code that calls them once the emit started (while it waits for a listener): the snapshot is taken at once, before the emit first waits for anything." ... With `slow` (async, sleeps) then `victim`, `task = create_task(emit("e"))`, then the main task calls `off("e", victim)` while `slow` sleeps: the running emit never calls `victim`.
"""

from __future__ import annotations

import asyncio
import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> sorted list of ((-priority, seq), handler)
        self._lists: dict[str, list[tuple[tuple[int, int], Callable[..., Any]]]] = {}
        self._seq = itertools.count()
        # events this emitter is emitting right now (in the running context)
        self._emitting: dict[object, frozenset[str]] = {}

    def _marks(self) -> frozenset[str]:
        try:
            task = asyncio.current_task()
        except RuntimeError:
            task = None
        return self._emitting.get(task, frozenset())

    def _writable(self, event: str) -> list[tuple[tuple[int, int], Callable[..., Any]]]:
        lst = self._lists.setdefault(event, [])
        if event in self._marks():
            lst = self._lists[event] = list(lst)   # an emit walks the old one
        return lst

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        key = (-int(priority), next(self._seq))
        lst = self._writable(event)
        lst.insert(bisect.bisect_right([k for k, _ in lst], key), (key, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._lists:
            return
        lst = self._writable(event)
        for i in range(len(lst) - 1, -1, -1):
            if lst[i][1] == handler:
                del lst[i]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        lst = self._lists.get(event)
        if not lst:
            return None
        task = asyncio.current_task()
        before = self._marks()
        self._emitting[task] = before | {event}
        try:
            for _key, handler in lst:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            if before:
                self._emitting[task] = before
            else:
                self._emitting.pop(task, None)
        return None
