"""Bug: like a Django Channels group name, each event name is made "safe" by replacing every character outside letters, digits, ".", "_" and "-" with "_", so different names that differ only in such characters become one event.

Breaks: "An event is its exact name: `"Save"`, `"save"` and `" save"` are three events." and "A `*` in a name is a character ... a listener of `"*"` or `"ui:*"` hears only an emit of that very name." ... With on("ui:*", a), `await emit("ui_*", 1)`, `emit("ui:?", 1)` and `emit("ui__", 1)` each call a(1); likewise on(" save", b) is heard by emit("_save"); none of them may.
"""

from __future__ import annotations

import inspect
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from day25 import EventPriority

_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")


def _channel(event: str) -> str:
    """A name that is safe as a key (the way channel-layer group names are)."""
    return _UNSAFE.sub("_", event)


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._next = 0
        self._groups: defaultdict[str, list[tuple[int, int, Callable[..., Any]]]] = defaultdict(list)

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._next += 1
        self._groups[_channel(event)].append((int(priority), self._next, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        name = _channel(event)
        if name in self._groups:
            self._groups[name] = [m for m in self._groups[name] if not m[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        members = sorted(self._groups.get(_channel(event), ()), key=lambda m: (-m[0], m[1]))
        for _priority, _number, handler in members:
            answer = handler(*args, **kwargs)
            if inspect.isawaitable(answer):
                await answer
