"""Bug: each awaitable is awaited through a helper that hands back its outcome (the value, or the exception it raised) and emit raises any exception object in that outcome, so an async listener that *returns* an exception instance (a value) makes emit raise it.

Breaks: "It is awaited once: what that gives back is a value, even when it is awaitable too." and "`await emit(...)` returns `None`." ... An `async def check(x): return ValueError("bad input")` (a validator that reports, not raises) followed by a LOW listener: `await emit("e", 1)` raises that ValueError and skips the LOW listener, though no listener raised.
"""

from __future__ import annotations

import bisect
import inspect
import itertools
from collections.abc import Callable
from typing import Any

from day25 import EventPriority


async def _outcome(awaitable: Any) -> Any:
    """Await ``awaitable`` once; give back its value, or the error it raised."""
    try:
        return await awaitable
    except BaseException as error:
        return error


class PriorityEmitter:
    """``on`` / ``off`` / ``await emit`` with LOW, MEDIUM and HIGH priorities."""

    def __init__(self) -> None:
        self._keys: dict[str, list[tuple[int, int]]] = {}
        self._handlers: dict[str, list[Callable[..., Any]]] = {}
        self._tick = itertools.count()

    def on(
        self,
        event: str,
        handler: Callable[..., Any],
        priority: int = EventPriority.MEDIUM,
    ) -> Callable[..., Any]:
        """Call ``handler`` on every ``event``; return ``handler``."""
        keys = list(self._keys.get(event, ()))
        handlers = list(self._handlers.get(event, ()))
        key = (-int(priority), next(self._tick))
        index = bisect.bisect_right(keys, key)
        keys.insert(index, key)
        handlers.insert(index, handler)
        self._keys[event], self._handlers[event] = keys, handlers
        return handler

    def off(self, event: str, handler: Callable[..., Any]) -> None:
        """Remove every registration of ``handler`` on ``event``; unknown ones are ignored."""
        if event not in self._handlers:
            return
        pairs = [(k, h) for k, h in zip(self._keys[event], self._handlers[event])
                 if not h == handler]
        if pairs:
            self._keys[event] = [k for k, _ in pairs]
            self._handlers[event] = [h for _, h in pairs]
        else:
            del self._keys[event], self._handlers[event]

    async def emit(self, event: str, *args: Any, **kwargs: Any) -> None:
        """Call the listeners of ``event`` in order, awaiting each async one."""
        for handler in tuple(self._handlers.get(event, ())):
            result = handler(*args, **kwargs)
            if inspect.isawaitable(result):
                outcome = await _outcome(result)
                if isinstance(outcome, BaseException):
                    raise outcome
