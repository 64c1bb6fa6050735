"""Bug: when a listener returns a Task/Future, `except asyncio.CancelledError: continue` treats its cancellation as "nothing left to wait for", swallowing the CancelledError (also the one that cancels the emit itself).

Breaks: "a Task it returns that ends cancelled ... raises `CancelledError` when awaited, and that comes out too" / "an emit cancelled while it waits ... runs no more listeners; it does not return as if it had finished" ... a HIGH listener returns a Task that raises CancelledError, then a MEDIUM one: emit runs the MEDIUM one and returns None; asyncio.wait_for(emit(...), 0.05) around a listener returning a long Task returns None instead of timing out."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._seq = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._seq += 1
        self._listeners.setdefault(event, []).append((int(priority), self._seq, handler))
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        entries = self._listeners.get(event)
        if entries is None:
            return
        kept = [entry for entry in entries if not (entry[2] == handler)]
        if kept:
            self._listeners[event] = kept
        else:
            del self._listeners[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        snapshot = sorted(self._listeners.get(event, ()), key=lambda e: (-e[0], e[1]))
        for _priority, _seq, handler in snapshot:
            result = handler(*args, **kwargs)
            if asyncio.isfuture(result):
                try:
                    await result
                except asyncio.CancelledError:
                    # the listener's Task was cancelled: nothing left to wait for
                    continue
            elif inspect.isawaitable(result):
                await result
        return None
