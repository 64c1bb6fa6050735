"""Bug: on/off calls made during an emit are queued and applied after it, but a raising listener skips the flush, so they count one emit late.

Breaks: "A listener that calls `on` or `off` while the emit runs changes the *next* emit, not this one" together with "The emitter stays usable: the next emit runs every listener again."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Listeners live in one sorted list per event; changes during an emit are deferred."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = 0
        self._depth = 0
        self._pending: list[tuple[str, str, Callable[..., Any], int]] = []

    # -- applying changes -------------------------------------------------
    def _apply_on(self, event: str, handler: Callable[..., Any], priority: int) -> None:
        self._seq += 1
        entries = self._listeners.setdefault(event, [])
        entries.append((int(priority), self._seq, handler))
        entries.sort(key=lambda e: (-e[0], e[1]))

    def _apply_off(self, event: str, handler: Callable[..., Any]) -> None:
        entries = self._listeners.get(event)
        if not entries:
            return
        entries[:] = [e for e in entries if e[2] != handler]

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for op, event, handler, priority in pending:
            if op == "on":
                self._apply_on(event, handler, priority)
            else:
                self._apply_off(event, handler)

    # -- public API -------------------------------------------------------
    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        if self._depth:
            self._pending.append(("on", event, handler, int(priority)))
        else:
            self._apply_on(event, handler, priority)
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        if self._depth:
            self._pending.append(("off", event, handler, 0))
        else:
            self._apply_off(event, handler)

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        # an inner emit must see the changes made so far (its own snapshot);
        # a top-level emit has nothing queued, the last one flushed at its end
        if self._depth and self._pending:
            saved, self._depth = self._depth, 0
            self._flush()
            self._depth = saved
        snapshot = list(self._listeners.get(event, ()))
        self._depth += 1
        try:
            for _, _, handler in snapshot:
                result = handler(*args, **kwargs)
                if inspect.isawaitable(result):
                    await result
        finally:
            self._depth -= 1
        if self._depth == 0:
            self._flush()
