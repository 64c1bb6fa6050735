"""Bug: a listener that raises is unsubscribed before its exception is re-raised, so it never runs again.

Breaks: "The emitter stays usable: the next emit runs every listener again."
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


class PriorityEmitter:
    """Closure style: __init__ builds on, off and emit around one private registry."""

    def __init__(self) -> None:
        registry: dict[str, list[tuple[int, int, Callable[..., Any]]]] = {}
        counter = [0]

        def on(
            event: str,
            handler: Callable[..., Any],
            priority: int = EventPriority.MEDIUM,
        ) -> Callable[..., Any]:
            counter[0] += 1
            registry.setdefault(event, []).append((int(priority), counter[0], handler))
            return handler

        def off(event: str, handler: Callable[..., Any]) -> None:
            if event in registry:
                registry[event] = [r for r in registry[event] if r[2] != handler]

        async def emit(event: str, *args: Any, **kwargs: Any) -> None:
            snapshot = sorted(registry.get(event, []), key=lambda r: (-r[0], r[1]))
            for _priority, _number, handler in snapshot:
                try:
                    result = handler(*args, **kwargs)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    # a broken listener would fail on every emit: drop it, then report
                    off(event, handler)
                    raise

        self.on = on
        self.off = off
        self.emit = emit
