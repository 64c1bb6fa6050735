"""Bug: carries the bundled bus's wildcards over from lesson 5, so a listener registered on `"*"` hears every event and one on `"ui:*"` hears every event whose name starts with `ui:`.

Breaks: "**Events are independent**: emitting an event nobody listens to does nothing. An event is its exact name: `"Save"`, `"save"` and `" save"` are three events." ... `on("*", log)` then `await emit("save", 1)` calls `log(1)`, though nobody listens to `"save"`; likewise `on("ui:*", h)` makes `emit("ui:click")` call `h`.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass(order=True)
class _Listener:
    rank: int  # -priority: smaller sorts first
    seq: int
    handler: Callable[..., Any] = field(compare=False)


def _matches(pattern: str, event: str) -> bool:
    if pattern == event or pattern == "*":
        return True
    return pattern.endswith(":*") and event.startswith(pattern[:-1])


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[_Listener]] = {}
        self._seq = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        listener = _Listener(-int(priority), next(self._seq), handler)
        self._by_name.setdefault(event, []).append(listener)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        listeners = self._by_name.get(event)
        if listeners is not None:
            self._by_name[event] = [li for li in listeners if not li.handler == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        # exact and wildcard listeners are merged by priority, then registration order
        snapshot = sorted(
            listener
            for name, listeners in self._by_name.items()
            if _matches(name, event)
            for listener in listeners
        )
        for listener in snapshot:
            result = listener.handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
