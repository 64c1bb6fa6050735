"""Exercise 1: priority_ordering. Emits are serialised by a lock; the snapshot waits for it.

BUG (planted): "So does other code that calls them once the emit started (while it waits
for a listener): the snapshot is taken at once, before the emit first waits for anything."
emit takes an asyncio.Lock (re-entrant for the task holding it, so an emit inside a
listener still works) before it copies the listeners, so two emits never interleave. An
emit started while another one is awaiting a listener waits for the lock first and takes
its snapshot only then: an off() (or on()) made in between changes that emit, and the two
emits do not run side by side. Shows with asyncio.gather(emit("e", 1), emit("e", 2)).
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, registration number, handler), kept sorted
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._counter = itertools.count()
        # one emit at a time, so the listeners of two emits never interleave
        self._lock = asyncio.Lock()
        self._lock_owner: asyncio.Task[Any] | None = None

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), next(self._counter), handler))
        entries.sort(key=lambda entry: (-entry[0], entry[1]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not entry[2] == handler]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        me = asyncio.current_task()
        if self._lock_owner is not None and self._lock_owner is me:
            # an emit inside a listener of our own emit: we already hold the lock
            await self._run(event, args, kwargs)
            return
        async with self._lock:
            self._lock_owner = me
            try:
                await self._run(event, args, kwargs)
            finally:
                self._lock_owner = None

    async def _run(self, event: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        snapshot = list(self._listeners.get(event, ()))
        for _priority, _number, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
