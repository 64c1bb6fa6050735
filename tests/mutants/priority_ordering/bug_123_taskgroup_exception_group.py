"""Bug: an awaitable a listener returns is run to its end inside an `asyncio.TaskGroup`, so when it raises, emit lets out an `ExceptionGroup` wrapping the listener's exception instead of the exception itself.

Breaks: "It is the listener's own exception, not another one wrapping it: a listener's `ValueError` comes out of `emit` as that `ValueError`, so the caller's `except ValueError` works." ... With `async def boom(x): raise ValueError(x)` registered, `await emit("e", 1)` raises `ExceptionGroup('unhandled errors in a TaskGroup', [ValueError(1)])`, which `except ValueError` does not catch (a sync listener's error still comes out unwrapped).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

from day25 import EventPriority


async def _settle(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._registry: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        self._registrations = 0

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        self._registrations += 1
        self._registry.setdefault(event, []).append(
            (int(priority), self._registrations, handler)
        )
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event in self._registry:
            self._registry[event] = [r for r in self._registry[event] if not r[2] == handler]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        ordered = sorted(self._registry.get(event, ()), key=lambda r: (-r[0], r[1]))
        for _, _, handler in ordered:
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                # structured concurrency: the block ends only when the task is done
                async with asyncio.TaskGroup() as group:
                    group.create_task(_settle(result))
