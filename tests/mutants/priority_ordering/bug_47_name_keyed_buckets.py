"""Bug: buckets are keyed by the priority's spelling (member name or digits), so a plain 2 and MEDIUM form two groups instead of tying.

Breaks: "A priority is its number, however it is spelled: 2, EventPriority.MEDIUM, EventPriority.NORMAL and the default are one priority, so their listeners tie (rule 2)."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


def _label(priority: int) -> str:
    """A readable name for a priority, used as the bucket key (handy in describe())."""
    if isinstance(priority, EventPriority):
        return priority.name
    return str(priority)


class PriorityEmitter:
    """event -> label -> (numeric priority, handlers in registration order)."""

    def __init__(self) -> None:
        self._events: dict[str, dict[str, tuple[int, list[Callable[..., Any]]]]] = {}

    def describe(self, event: str) -> dict[str, int]:
        """How many listeners each priority has, by name."""
        return {label: len(hs) for label, (_, hs) in self._events.get(event, {}).items()}

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        buckets = self._events.setdefault(event, {})
        label = _label(priority)
        if label not in buckets:
            buckets[label] = (int(priority), [])
        buckets[label][1].append(handler)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        buckets = self._events.get(event)
        if not buckets:
            return
        for label in list(buckets):
            value, handlers = buckets[label]
            rest = [h for h in handlers if h != handler]
            if rest:
                buckets[label] = (value, rest)
            else:
                del buckets[label]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        buckets = self._events.get(event, {})
        groups = sorted(buckets.values(), key=lambda group: group[0], reverse=True)
        order = [h for _value, handlers in groups for h in list(handlers)]
        for handler in order:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
