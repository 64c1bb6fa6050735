"""Bug: on and off during an emit are queued until the outermost emit ends, so an emit started inside a listener does not see them.

Breaks: "That inner emit is an emit like any other (its own snapshot, taken when it starts; its listeners in order)" and "A listener that calls on or off while the emit runs changes the next emit, not this one".
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """No copies: the lists never change while an emit runs, changes wait in a queue."""

    def __init__(self) -> None:
        self._lists: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._next_number = 0
        self._emitting = 0  # how many emits are running (emits can nest)
        self._pending: list[tuple[str, str, Callable[..., Any], int]] = []

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        if self._emitting:
            self._pending.append(("on", event, handler, int(priority)))
        else:
            self._add(event, handler, int(priority))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``."""
        if self._emitting:
            self._pending.append(("off", event, handler, 0))
        else:
            self._remove(event, handler)

    def _add(self, event: str, handler: Callable[..., Any], priority: int) -> None:
        self._next_number += 1
        entries = self._lists.setdefault(event, [])
        entries.append((priority, self._next_number, handler))
        entries.sort(key=lambda e: (-e[0], e[1]))

    def _remove(self, event: str, handler: Callable[..., Any]) -> None:
        if event in self._lists:
            self._lists[event] = [e for e in self._lists[event] if e[2] != handler]

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for op, event, handler, priority in pending:
            if op == "on":
                self._add(event, handler, priority)
            else:
                self._remove(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        self._emitting += 1
        try:
            for _priority, _number, handler in self._lists.get(event, []):
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._emitting -= 1
            if not self._emitting:
                self._flush()
