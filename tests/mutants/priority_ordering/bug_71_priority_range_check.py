"""Bug: on validates the priority against a made-up sane range (minus 99 to 99) and raises ValueError outside it.

Breaks: "Any int is a priority too (EventPriority is an IntEnum): 10 runs before HIGHEST, -5 after LOWEST" (rule 1); a priority of 100 or -1000 is rejected instead of registered.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

from day25 import EventPriority

_MIN_PRIORITY = -99
_MAX_PRIORITY = 99


class _Listener(NamedTuple):
    rank: int
    serial: int
    func: Callable[..., Any]


class PriorityEmitter:
    """Named tuples per event, sorted when an emit starts."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[_Listener]] = {}
        self._serial = 0

    @staticmethod
    def _check_priority(priority: int) -> int:
        value = int(priority)
        if not _MIN_PRIORITY <= value <= _MAX_PRIORITY:
            raise ValueError(
                f"priority must be between {_MIN_PRIORITY} and {_MAX_PRIORITY}, got {value}"
            )
        return value

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        rank = self._check_priority(priority)
        self._serial += 1
        self._listeners.setdefault(event, []).append(_Listener(rank, self._serial, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        current = self._listeners.get(event)
        if current is None:
            return
        self._listeners[event] = [item for item in current if item.func != handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        queue = sorted(self._listeners.get(event, []), key=lambda item: (-item.rank, item.serial))
        for item in queue:
            result = item.func(*args, **kwargs)
            if inspect.isawaitable(result):
                await result
