"""Bug: `emit` serialises emits of one event behind a per-event `asyncio.Lock` (letting only nested emits of the same task through), so a concurrent emit takes its snapshot only after the running one finished.

Breaks: "the snapshot is taken at once, before the emit first waits for anything." and "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 2))`): each calls every listener of its own snapshot" ... With one async listener `a` that awaits a sleep and then calls `on("e", late)`, `gather(emit("e", 1), emit("e", 2))` should call `a(1)`, `a(2)` and nothing else; here the second emit waits for the lock, snapshots `[a, late]` and also calls `late(2)`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._lists: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._count = 0
        self._locks: dict[str, asyncio.Lock] = {}
        self._owners: dict[str, asyncio.Task[Any] | None] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._count += 1
        self._lists.setdefault(event, []).append((-int(priority), self._count, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._lists:
            self._lists[event] = [e for e in self._lists[event] if not e[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        me = asyncio.current_task()
        if self._owners.get(event) is me:
            # an emit from inside one of this event's listeners: run it now (rule 11)
            await self._run(event, args, kwargs)
            return None
        lock = self._locks.setdefault(event, asyncio.Lock())
        async with lock:  # one emit of an event at a time
            self._owners[event] = me
            try:
                await self._run(event, args, kwargs)
            finally:
                self._owners[event] = None
        return None

    async def _run(self, event: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        snapshot = sorted(self._lists.get(event, ()), key=lambda e: (e[0], e[1]))
        for _, _, handler in snapshot:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
