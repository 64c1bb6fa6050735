"""Bug: off() stamps a removal with the clock value *before* bumping it, so a listener removed during an emit (when nothing else changed since that emit started) looks removed before the emit began and is skipped.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one (a listener removed meanwhile still runs in this emit; one added meanwhile does not)." ... With `remover` (HIGH, calls `off("e", victim)`) and `victim` (LOW), `await emit("e")` calls only `remover`: victim's removal stamp equals the emit's start stamp, so the emit treats it as already gone.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class _Entry:
    """One registration, stamped with the clock values that bound its life."""

    __slots__ = ("handler", "priority", "seq", "added", "removed")

    def __init__(self, handler: Callable[..., Any], priority: int, seq: int, added: int) -> None:
        self.handler = handler
        self.priority = priority
        self.seq = seq
        self.added = added
        self.removed: int | None = None

    def visible_at(self, now: int) -> bool:
        return self.added <= now and (self.removed is None or self.removed > now)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._entries: dict[str, list[_Entry]] = {}
        self._clock = 0      # bumped by every change
        self._seq = 0        # registration order
        self._running = 0    # emits in progress: removed entries are kept for them

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._clock += 1
        entry = _Entry(handler, int(priority), self._seq, self._clock)
        self._seq += 1
        self._entries.setdefault(event, []).append(entry)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._entries.get(event)
        if not entries:
            return
        stamp = self._clock
        hit = False
        for entry in entries:
            if entry.removed is None and entry.handler == handler:
                entry.removed = stamp
                hit = True
        if hit:
            self._clock += 1
        if not self._running:
            self._prune()

    def _prune(self) -> None:
        for event in list(self._entries):
            alive = [e for e in self._entries[event] if e.removed is None]
            if alive:
                self._entries[event] = alive
            else:
                del self._entries[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        now = self._clock
        order = sorted(self._entries.get(event, ()), key=lambda e: (-e.priority, e.seq))
        self._running += 1
        try:
            for entry in order:
                if not entry.visible_at(now):
                    continue
                result = entry.handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._running -= 1
            if not self._running:
                self._prune()
        return None
