"""Bug: registrations are grouped per handler (handler with its list of priorities), so a handler registered again at an existing priority runs next to its first registration instead of after the listeners registered in between.

Breaks: "**Ties**: listeners of the same priority run in the order they were registered." (with "registering the same handler twice makes it run twice").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from day25 import EventPriority


@dataclass
class _Entry:
    handler: Callable[..., Any]
    priorities: list[int] = field(default_factory=list)


class PriorityEmitter:
    """Per event: one entry per distinct handler (compared with ==), in first-registration order."""

    def __init__(self) -> None:
        self._entries: dict[str, list[_Entry]] = {}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        entries = self._entries.setdefault(event, [])
        for entry in entries:
            if entry.handler == handler:
                entry.priorities.append(int(priority))
                break
        else:
            entries.append(_Entry(handler, [int(priority)]))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._entries.get(event)
        if entries:
            self._entries[event] = [e for e in entries if not (e.handler == handler)]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # flatten into a fresh list (the snapshot), then a stable sort by priority
        calls = [(prio, e.handler) for e in self._entries.get(event, ()) for prio in e.priorities]
        calls.sort(key=lambda c: c[0], reverse=True)
        for _, handler in calls:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
