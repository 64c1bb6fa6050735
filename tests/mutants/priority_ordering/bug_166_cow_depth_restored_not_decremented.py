"""Bug: emit saves the "emits running" counter when it starts and writes that saved value back when it ends, so with two emits running at once the one that finishes first resets the counter to 0 while the other still walks the live list, and a later off() edits that list in place.

Breaks: "Two emits may also run at the same time (`asyncio.gather(emitter.emit("e", 1), emitter.emit("e", 2))`): each calls every listener of its own snapshot, with its own arguments." and "So does other code that calls them once the emit started (while it waits for a listener)" ... With `slow` (async, sleeps `x` seconds) then `victim`, `gather(emit("e", 0), emit("e", 0.05), meddle())` where `meddle` calls `off("e", victim)` after 0.02 s: the second emit never calls `victim`.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        # event -> list of (priority, handler), kept in run order. While an emit
        # walks a list, on/off build a new list instead of editing it.
        self._lists: dict[str, list[tuple[int, Callable[..., Any]]]] = {}
        self._busy = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        level = int(priority)
        lst = self._lists.get(event)
        if lst is None:
            lst = self._lists[event] = []
        elif self._busy:
            lst = self._lists[event] = list(lst)
        index = len(lst)
        while index and lst[index - 1][0] < level:
            index -= 1
        lst.insert(index, (level, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        lst = self._lists.get(event)
        if lst is None:
            return
        kept = [item for item in lst if not item[1] == handler]
        if self._busy:
            self._lists[event] = kept
        else:
            lst[:] = kept

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        lst = self._lists.get(event)
        if not lst:
            return None
        depth = self._busy
        self._busy = depth + 1
        try:
            for _level, handler in lst:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._busy = depth
        return None
